package space

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/internal/backoff"
	"github.com/notifyd/notifyd/protocol"
)

// Event types on Config.Channel.
const (
	eventMember   = "member"
	eventTyping   = "typing"
	eventReaction = "reaction"
)

// maxEventSize bounds what Listen decodes.
const maxEventSize = 8 << 10

// event is one JSON event on Config.Channel (see doc.go).
type event struct {
	Type      string `json:"type"`
	Host      string `json:"host"`
	Space     string `json:"space"`
	Principal string `json:"principal"`
	Joined    bool   `json:"joined,omitempty"`
	Deleted   bool   `json:"deleted,omitempty"`
	Message   string `json:"message,omitempty"`
	Emoji     string `json:"emoji,omitempty"`
	Remove    bool   `json:"remove,omitempty"`
	Count     int    `json:"count,omitempty"`
}

// EventSink receives the events of every gateway's spaces (the gateway
// implements it). Calls come from Listen's goroutine, one at a time: they
// must not block.
type EventSink interface {
	// SpaceMember: principal joined (joined) or left the space (removed,
	// left, or deleted: the space no longer exists).
	SpaceMember(host, space, principal string, joined, deleted bool)
	// SpaceTyping: principal is typing in the space.
	SpaceTyping(host, space, principal string)
	// SpaceReaction: a reaction was added or removed (r.Remove).
	SpaceReaction(host string, r protocol.Reaction)
	// SpacesResync: Listen (re)subscribed; events published while it was
	// not subscribed are lost: re-check memberships.
	SpacesResync()
}

// publishEvent publishes ev on Config.Channel (see publishEvents).
func (s *Service) publishEvent(ctx context.Context, ev event) { s.publishEvents(ctx, ev) }

// publishEvents publishes evs on Config.Channel, in one pipeline. The
// change they announce is done: a failure is counted and logged, not
// returned.
func (s *Service) publishEvents(ctx context.Context, evs ...event) {
	if len(evs) == 0 {
		return
	}
	p := s.rdb.Pipeline()
	for _, ev := range evs {
		p.Publish(ctx, s.cfg.Channel, mustJSON(ev))
	}
	if _, err := p.Exec(ctx); err != nil {
		s.stats.errors.Add(1)
		s.log.Warn("space: events not published", "type", evs[0].Type, "host", evs[0].Host, "space", evs[0].Space,
			"events", len(evs), "err", err)
		return
	}
	s.stats.published.Add(uint64(len(evs)))
}

// Typing announces that the caller is typing in the space. It is never
// stored; beyond one per Config.TypingInterval per user and space, events
// are dropped silently (nil).
func (s *Service) Typing(ctx context.Context, c Caller, id string) error {
	const op = "typing"
	if err := s.checkSpaceOp(op, &c, id); err != nil {
		return err
	}
	member, _, err := s.IsMember(ctx, c.Host, id, c.Principal)
	if err != nil {
		return err
	}
	if !member {
		return failure(op, ErrNotFound, "space")
	}
	if s.typing != nil && !s.typing.Allow(c.Host+"\n"+c.Principal+"\n"+id) {
		s.stats.typingDropped.Add(1)
		return nil
	}
	s.stats.typing.Add(1)
	s.publishEvent(ctx, event{Type: eventTyping, Host: c.Host, Space: id, Principal: c.Principal})
	return nil
}

// Listen subscribes to Config.Channel and passes every event to sink
// until ctx ends (then it returns nil). It resubscribes after a failure,
// with backoff, and calls sink.SpacesResync after each subscription is
// confirmed. Events that do not decode are counted (Stats.Errors) and
// skipped.
func (s *Service) Listen(ctx context.Context, sink EventSink) error {
	if sink == nil {
		return errors.New("space: listen: nil sink")
	}
	b := backoff.Backoff{Min: 50 * time.Millisecond, Max: 5 * time.Second, Jitter: backoff.Equal}
	for ctx.Err() == nil {
		if s.listenOnce(ctx, sink) {
			b.Reset()
		}
		if ctx.Err() != nil {
			break
		}
		s.stats.errors.Add(1)
		if !backoff.Sleep(ctx, b.Next()) {
			break
		}
	}
	return nil
}

// listenOnce runs one subscription until it fails or ctx ends, and
// reports whether it was confirmed.
func (s *Service) listenOnce(ctx context.Context, sink EventSink) (confirmed bool) {
	ps := s.rdb.Subscribe(ctx, s.cfg.Channel)
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer func() {
		if stop() {
			_ = ps.Close()
		}
	}()
	for {
		v, err := ps.Receive(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("space: events subscription lost", "channel", s.cfg.Channel, "err", err)
			}
			return confirmed
		}
		switch m := v.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				confirmed = true
				sink.SpacesResync()
			}
		case *redis.Message:
			s.dispatch(m.Payload, sink)
		}
	}
}

// dispatch decodes one event and calls sink.
func (s *Service) dispatch(payload string, sink EventSink) {
	var ev event
	if len(payload) > maxEventSize || json.Unmarshal([]byte(payload), &ev) != nil || ev.Host == "" || ev.Space == "" {
		s.stats.errors.Add(1)
		return
	}
	switch ev.Type {
	case eventMember:
		sink.SpaceMember(ev.Host, ev.Space, ev.Principal, ev.Joined, ev.Deleted)
	case eventTyping:
		sink.SpaceTyping(ev.Host, ev.Space, ev.Principal)
	case eventReaction:
		sink.SpaceReaction(ev.Host, protocol.Reaction{
			Action: protocol.ActionReaction, Space: ev.Space, Message: ev.Message, Emoji: ev.Emoji,
			Principal: ev.Principal, Remove: ev.Remove, Count: ev.Count,
		})
	default:
		s.stats.errors.Add(1)
		return
	}
	s.stats.received.Add(1)
}
