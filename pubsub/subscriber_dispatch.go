package pubsub

import (
	"context"
	"errors"
	"time"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/message"
)

// logPayloadBytes is how much of a dropped payload a log line shows.
const logPayloadBytes = 200

// item is what the read loop queues for the dispatcher: a data payload, or
// the marker of a gap fill requested at that point of the stream.
type item struct {
	payload string
	fill    bool
}

// dispatchLoop turns raw payloads into messages for the sink, in batches
// (see dispatcher), runs the gap fills whose markers it meets, and obeys
// control payloads, until in and ctl are closed. It hands the history
// entries it could not store to the retry writer through out, never
// blocking on it. Once stop is closed (Run is stopping) gap fills are
// skipped.
func (s *Subscriber) dispatchLoop(ctx context.Context, stop <-chan struct{},
	in <-chan item, ctl <-chan string, out chan<- history.Entry) {
	d := newDispatcher(s, out)
	bo := s.cfg.newBackoff()
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	fill := func() {
		select {
		case <-stop:
			return
		default:
		}
		if s.gapFill(ctx) {
			bo.Reset()
			return
		}
		retry.Reset(bo.Next()) // some sites failed; they are pending again
	}
	for in != nil || ctl != nil {
		select {
		case it, ok := <-in:
			if !ok {
				in = nil
				continue
			}
			marker := d.collect(ctx, it, in)
			d.flush(ctx)
			if marker {
				s.fills.queued.Store(false) // before take: see requestFill
				fill()
			}
		case payload, ok := <-ctl:
			if !ok {
				ctl = nil
				continue
			}
			s.handleControl(payload)
		case <-retry.C:
			fill()
		}
	}
}

// deliver hands a valid message to the sink with its push form, and
// remembers its id, for duplicates, and as its site's last for gap fills.
func (s *Subscriber) deliver(m *message.Message) {
	s.sink.Deliver(m, m.PushJSON())
	s.stats.delivered.Add(1)
	s.recent.add(m.ID)
	s.sites.set(m.Host, m.ID)
}

func decodeReason(err error) DropReason {
	switch {
	case errors.Is(err, message.ErrTooLarge):
		return DropTooLarge
	case errors.Is(err, message.ErrInvalid):
		return DropInvalid
	default:
		return DropMalformed
	}
}

// drop counts one dropped message and logs it, rate-limited per reason.
// payload may be empty; only its first bytes are logged.
func (s *Subscriber) drop(reason DropReason, err error, payload string) {
	s.dropN(reason, 1, err, payload)
}

func (s *Subscriber) dropN(reason DropReason, n int, err error, payload string) {
	s.stats.dropped[reason].Add(uint64(n))
	args := []any{"reason", string(reason), "count", n}
	if err != nil {
		args = append(args, "err", err)
	}
	if payload != "" {
		args = append(args, "bytes", len(payload), "payload", truncate(payload, logPayloadBytes))
	}
	s.limiter.Warn(s.log, string(reason), "pubsub: message dropped", args...)
}
