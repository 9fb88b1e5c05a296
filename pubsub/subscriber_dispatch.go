package pubsub

import (
	"context"
	"errors"
	"time"

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

// dispatchLoop turns raw payloads into messages for the sink and entries for
// the history writer, runs the gap fills whose markers it meets, and obeys
// control payloads, until in and ctl are closed. It never blocks on out.
// Once stop is closed (Run is stopping) gap fills are skipped.
func (s *Subscriber) dispatchLoop(ctx context.Context, stop <-chan struct{},
	in <-chan item, ctl <-chan string, out chan<- Entry) {
	bo := backoff{min: s.cfg.BackoffMin, max: s.cfg.BackoffMax}
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
			bo.reset()
			return
		}
		retry.Reset(bo.next()) // some sites failed; they are pending again
	}
	for in != nil || ctl != nil {
		select {
		case it, ok := <-in:
			if !ok {
				in = nil
				continue
			}
			if it.fill {
				s.fills.queued.Store(false) // before take: see requestFill
				fill()
				continue
			}
			e, ok := s.process(ctx, it.payload)
			if !ok || s.history == nil {
				continue
			}
			select {
			case out <- e:
			default:
				s.drop(DropHistoryQueueFull, nil, "")
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

// process decodes, completes, validates and encodes one payload, and delivers
// it. It reports false when the payload was dropped or is a duplicate.
func (s *Subscriber) process(ctx context.Context, payload string) (Entry, bool) {
	b := []byte(payload)
	m, err := message.Decode(b, s.cfg.MaxMessageSize)
	if err != nil {
		s.drop(decodeReason(err), err, payload)
		return Entry{}, false
	}
	if m.ID == "" {
		// Derived from the bytes, so every gateway agrees and the history
		// stores the message once.
		m.ID = message.DeriveID(m.Timestamp, b)
	}
	if s.recent.has(m.ID) {
		s.stats.skipped.Add(1)
		s.log.Debug("pubsub: duplicate skipped", "id", m.ID, "host", m.Host)
		return Entry{}, false
	}
	if !m.HasTarget() && s.cfg.Resolver != nil {
		if err := s.cfg.Resolver.Resolve(ctx, m); err != nil {
			s.drop(DropResolve, err, payload)
			return Entry{}, false
		}
	}
	if err := m.Validate(); err != nil {
		s.drop(DropInvalid, err, payload)
		return Entry{}, false
	}
	stored := m.AppendJSON(nil, true)
	s.deliver(m)
	return Entry{Host: m.Host, ID: m.ID, Stored: stored}, true
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
	s.limiter.warn(s.log, string(reason), "pubsub: message dropped", args...)
}
