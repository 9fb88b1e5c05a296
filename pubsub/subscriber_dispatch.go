package pubsub

import (
	"context"
	"errors"

	"github.com/notifyd/notifyd/message"
)

// logPayloadBytes is how much of a dropped payload a log line shows.
const logPayloadBytes = 200

// dispatchLoop turns raw payloads into messages for the sink and entries for
// the history writer, until in is closed. It never blocks on out.
func (s *Subscriber) dispatchLoop(ctx context.Context, in <-chan string, out chan<- Entry) {
	for payload := range in {
		e, ok := s.process(ctx, payload)
		if !ok || s.history == nil {
			continue
		}
		select {
		case out <- e:
		default:
			s.drop(DropHistoryQueueFull, nil, "")
		}
	}
}

// process decodes, completes, validates and encodes one payload, and delivers
// it. It reports false when the payload was dropped.
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
	push := m.PushJSON()
	s.sink.Deliver(m, push)
	s.stats.delivered.Add(1)
	return Entry{Host: m.Host, ID: m.ID, Stored: stored}, true
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
