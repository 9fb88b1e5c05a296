package pubsub

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/message"
)

// DefaultChannel is the Redis pubsub channel of PyAMS's example configuration.
const DefaultChannel = "chat:main"

// DefaultStatus is the status a message gets when it has none (PyAMS's default).
const DefaultStatus = "info"

// PublisherConfig configures a Publisher.
type PublisherConfig struct {
	// Channel is the Redis channel messages are published on. Default
	// DefaultChannel.
	Channel string
	// MaxMessageSize bounds the stored form of a message in bytes. Default
	// message.DefaultMaxSize; negative means no limit. Keep it no larger than
	// the subscribers' limit, or they will drop what was published.
	MaxMessageSize int
	// Resolver computes the target of messages published without one, and
	// records the target keys (message.Target.Keys) of every message.
	// Default: none (messages without a target are published with an empty
	// target and reach nobody, as in PyAMS).
	Resolver Resolver
	// Now is the clock used for ids and timestamps. Default time.Now.
	Now func() time.Time
	// Logger receives Debug logs per published message. Default: discard.
	Logger *slog.Logger
}

// PublisherHistory is what a Publisher needs of the history:
// *history.Store satisfies it. AppendPublish stores the stored form of
// message id in host's list and PUBLISHes it on channel, in one atomic
// step, unless the id was stored already (then it does neither); Redis
// failures match history.ErrUnavailable.
type PublisherHistory interface {
	AppendPublish(ctx context.Context, channel, host, id string, stored []byte) (added bool, err error)
}

// withDefaults returns c with every zero field set to its default.
func (c PublisherConfig) withDefaults() PublisherConfig {
	c.Channel = cmp.Or(c.Channel, DefaultChannel)
	c.MaxMessageSize = cmp.Or(c.MaxMessageSize, message.DefaultMaxSize)
	if c.Now == nil { // a func: cmp.Or cannot compare it
		c.Now = time.Now
	}
	c.Logger = cmp.Or(c.Logger, slog.New(slog.DiscardHandler))
	return c
}

// Publisher is the Go API for backend applications: it completes a message,
// stores it in the history and publishes it to every gateway. It is safe for
// concurrent use.
type Publisher struct {
	// immutable after NewPublisher
	rdb      redis.UniversalClient
	history  PublisherHistory // nil: plain PUBLISH
	channel  string
	max      int
	resolver Resolver
	now      func() time.Time
	log      *slog.Logger

	ids message.IDGen // safe for concurrent use
}

// NewPublisher returns a Publisher that stores each message in h and
// publishes it in one script run on h's client (normally rdb too). A nil h
// means no history is written by the publisher (the subscribers still store
// what they receive) and messages are PUBLISHed on rdb. It does not contact
// Redis.
func NewPublisher(rdb redis.UniversalClient, h PublisherHistory, cfg PublisherConfig) (*Publisher, error) {
	if rdb == nil {
		return nil, errors.New("pubsub: publisher: nil redis client")
	}
	cfg = cfg.withDefaults()
	return &Publisher{
		rdb:      rdb,
		history:  h,
		channel:  cfg.Channel,
		max:      cfg.MaxMessageSize,
		resolver: cfg.Resolver,
		now:      cfg.Now,
		log:      cfg.Logger,
	}, nil
}

// Channel returns the Redis channel the publisher sends on.
func (p *Publisher) Channel() string { return p.channel }

// Publish completes m, validates it, stores it in the history and publishes it.
//
// Publish mutates m, so that the caller learns the id and timestamp: an empty
// ID gets a new ULID, an empty Timestamp the current time, an empty Channel
// the publisher's channel, an empty Status DefaultStatus, and a message
// without target principals the Resolver's target (the Resolver is called
// for every message: it may also record target keys). A Channel other than the
// publisher's is rejected (a *message.FieldError): the message would never
// reach the gateways listening on the configured channel.
//
// Errors: validation errors match message.ErrInvalid, an oversized message
// message.ErrTooLarge, Redis failures ErrUnavailable; a Resolver error is
// returned wrapped.
//
// With a history, one Redis script appends the message to its site's list
// and PUBLISHes it, atomically: nobody can receive it live before it is in
// the history, and a site's list holds its messages in the order the
// subscribers receive them, however many publishers (processes or
// goroutines) publish concurrently; the ?since= cursor of a reconnecting
// client relies on that. Without a history it is a plain PUBLISH.
//
// Publish is safe to retry with the same m after an error: the history keeps
// one copy per id (within the history's dedup window), and a message the
// script already stored is not published again, so live recipients get it
// once too (a retry of a message whose first attempt did succeed returns
// nil).
func (p *Publisher) Publish(ctx context.Context, m *message.Message) error {
	if err := p.complete(ctx, m); err != nil {
		return err
	}
	stored := m.StoredJSON()
	if p.max > 0 && len(stored) > p.max {
		return fmt.Errorf("pubsub: publish: %w: %d bytes, limit %d", message.ErrTooLarge, len(stored), p.max)
	}
	if p.history == nil {
		if err := p.rdb.Publish(ctx, p.channel, stored).Err(); err != nil {
			return unavailable(ctx, fmt.Sprintf("publish %q", p.channel), err)
		}
		p.log.Debug("pubsub: published", "id", m.ID, "host", m.Host, "category", m.Category, "channel", p.channel)
		return nil
	}
	added, err := p.history.AppendPublish(ctx, p.channel, m.Host, m.ID, stored)
	if err != nil {
		return fmt.Errorf("pubsub: publish: %w", historyErr(err))
	}
	p.log.Debug("pubsub: published", "id", m.ID, "host", m.Host, "category", m.Category,
		"channel", p.channel, "duplicate", !added)
	return nil
}

// complete fills in the fields a backend may leave empty, then validates.
func (p *Publisher) complete(ctx context.Context, m *message.Message) error {
	if m == nil {
		return fmt.Errorf("pubsub: publish: %w", &message.FieldError{Field: "message", Reason: "is nil"})
	}
	switch m.Channel {
	case "":
		m.Channel = p.channel
	case p.channel:
	default:
		return fmt.Errorf("pubsub: publish: %w", &message.FieldError{
			Field: "channel", Reason: fmt.Sprintf("must be empty or %q, the publisher's channel", p.channel)})
	}
	now := p.now()
	if m.ID == "" {
		m.ID = p.ids.New(now)
	}
	if m.Timestamp == "" {
		m.Timestamp = message.FormatTimestamp(now)
	}
	if m.Status == "" {
		m.Status = DefaultStatus
	}
	// Always: a message with a target keeps it, but the Resolver records
	// the extra keys its rule reads, so that they are stripped from the push
	// form (message.Target.Keys).
	if p.resolver != nil {
		if err := p.resolver.Resolve(ctx, m); err != nil {
			return fmt.Errorf("pubsub: publish: resolve target of %q: %w", m.Category, err)
		}
	}
	if err := m.Validate(); err != nil {
		return fmt.Errorf("pubsub: publish: %w", err)
	}
	return nil
}
