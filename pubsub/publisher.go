package pubsub

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/history"
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
	// DeliveryChannel, when set, says that the gateways run the inbox
	// pipeline (SubscriberConfig.DeliveryChannel) and that the history
	// publishes every message it stores on this channel
	// (history.Config.DeliveryChannel, the same): the Publisher then stores
	// through the history's script, which publishes the delivery, and
	// publishes nothing on Channel, so the API's messages and the bare
	// PUBLISHes of a site share the site's one order. Without a history the
	// Publisher still PUBLISHes on Channel, the intake. Default: none.
	DeliveryChannel string
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
// *history.Store satisfies it. AppendPublishOnce stores the entry in its
// site's list and PUBLISHes its stored form on channel, in one atomic step,
// unless its idempotency key or its id was stored already (then it does
// neither and reports the first answer); Redis failures match
// history.ErrUnavailable, a key reused for another message
// history.ErrIdempotencyConflict.
type PublisherHistory interface {
	AppendPublishOnce(ctx context.Context, channel string, e history.Entry, idem history.Idempotency) (history.Result, error)
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
	inbox    bool // the history's script publishes the delivery; nothing goes on channel
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
		inbox:    cfg.DeliveryChannel != "",
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
// client relies on that. With a DeliveryChannel the script publishes the
// delivery instead of the message on Channel, so bare PUBLISHes (stored by
// the gateways) and the Publisher's messages share one order per site.
// Without a history it is a plain PUBLISH.
//
// Publish is safe to retry with the same m after an error: the history keeps
// one copy per id (within the history's DedupWindow), and a message the
// script already stored is not published again, so live recipients get it
// once too; a retry of a message whose first attempt did succeed returns
// nil and sets m.Timestamp to the first attempt's. A retry with a new
// message (no id) is a new message: use PublishIdempotent for that.
func (p *Publisher) Publish(ctx context.Context, m *message.Message) error {
	_, err := p.PublishIdempotent(ctx, "", m)
	return err
}

// PublishIdempotent is Publish with an idempotency key: however many times,
// and on however many gateways, a message is published with the same key
// within the history's IdempotencyWindow (a day by default), it is stored
// and published once, and every call answers as the first did: m.ID and
// m.Timestamp are set to the first call's, and replayed is true for every
// call but the one that stored it. A call that failed stored nothing, so
// its retry stores the message. An empty key means none: a message whose
// id was stored within the DedupWindow is still not stored again, and
// reported as replayed with the first timestamp.
//
// The key is opaque (only its SHA-256 is kept) and is scoped by the
// message's site: callers that share a Redis and must not collide put
// their own namespace in it (the REST API prefixes a hash of the publisher
// token). The same key used within the window for a message that differs
// (other than in id and timestamp, which the retry may leave to the
// Publisher) fails with an error matching ErrIdempotencyConflict, and
// nothing is stored. A key needs a history: without one PublishIdempotent
// returns ErrNoHistory.
func (p *Publisher) PublishIdempotent(ctx context.Context, key string, m *message.Message) (replayed bool, err error) {
	if key != "" && p.history == nil {
		return false, fmt.Errorf("pubsub: publish: %w", ErrNoHistory)
	}
	if err := p.complete(ctx, m); err != nil {
		return false, err
	}
	stored := m.StoredJSON()
	if p.max > 0 && len(stored) > p.max {
		return false, fmt.Errorf("pubsub: publish: %w: %d bytes, limit %d", message.ErrTooLarge, len(stored), p.max)
	}
	if p.history == nil {
		if err := p.rdb.Publish(ctx, p.channel, stored).Err(); err != nil {
			return false, unavailable(ctx, fmt.Sprintf("publish %q", p.channel), err)
		}
		p.log.Debug("pubsub: published", "id", m.ID, "host", m.Host, "category", m.Category, "channel", p.channel)
		return false, nil
	}
	var idem history.Idempotency
	if key != "" {
		idem = history.Idempotency{Key: key, Fingerprint: fingerprint(m)}
	}
	e := history.EntryOf(m, stored)
	channel := p.channel
	if p.inbox {
		channel = "" // the script publishes the delivery (history.Config.DeliveryChannel)
	}
	r, err := p.history.AppendPublishOnce(ctx, channel, e, idem)
	if err != nil {
		return false, fmt.Errorf("pubsub: publish: %w", historyErr(err))
	}
	if !r.Added {
		m.ID = cmp.Or(r.ID, m.ID)
		m.Timestamp = cmp.Or(r.Timestamp, m.Timestamp)
	}
	p.log.Debug("pubsub: published", "id", m.ID, "host", m.Host, "category", m.Category,
		"channel", p.channel, "duplicate", !r.Added, "replayed_key", r.Replayed)
	return !r.Added, nil
}

// fingerprint identifies a completed message for its idempotency key: the
// hash of its stored form without id and timestamp, which a retry may
// leave for the Publisher to fill again.
func fingerprint(m *message.Message) string {
	c := *m
	c.ID, c.Timestamp = "", ""
	sum := sha256.Sum256(c.StoredJSON())
	return base64.RawURLEncoding.EncodeToString(sum[:16])
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
