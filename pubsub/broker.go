package pubsub

import (
	"log/slog"
	"time"

	"github.com/notifyd/notifyd/history"
	"github.com/redis/go-redis/v9"
)

// Config configures a Broker: the settings its History, Publisher and
// Subscribers share.
type Config struct {
	// Channel is the Redis pubsub channel. Default DefaultChannel.
	Channel string
	// ControlChannel is the channel of control messages, shared by the
	// Subscribers and the Revocations. Default DefaultControlChannel.
	ControlChannel string
	// NotificationsKey is the prefix of the per-site history lists. Default
	// DefaultHistoryKey.
	NotificationsKey string
	// NotificationsLength is how many messages each site's list keeps.
	// Default DefaultHistoryLength.
	NotificationsLength int
	// DedupWindow is how long stored ids are remembered. Default
	// DefaultDedupWindow.
	DedupWindow time.Duration
	// MaxMessageSize bounds messages in bytes. Default
	// message.DefaultMaxSize; negative means no limit.
	MaxMessageSize int
	// Resolver computes missing targets. Default: none.
	Resolver Resolver
	// Logger is used by everything the Broker makes. Default: discard.
	Logger *slog.Logger
	// Subscriber holds the subscriber-only settings (queue sizes, backoff,
	// OnSubscribed, ...). Its Channel, ControlChannel, MaxMessageSize,
	// Resolver and Logger, when zero, are taken from the fields above.
	Subscriber SubscriberConfig
	// Revocations holds the revocation settings (key prefix, TTL). Its
	// ControlChannel and Logger, when zero, are taken from the fields above.
	Revocations RevocationsConfig
}

// Broker bundles what a process needs around one Redis client: the History
// (read by the REST API), the Publisher (the Go API for backends), the
// Revocations (the admin disconnect) and a way to make the gateway's
// Subscriber with the same settings. It is a convenience: NewHistory,
// NewPublisher, NewRevocations and NewSubscriber can be used directly.
type Broker struct {
	// History is the per-site history; immutable after New.
	History *history.Store
	// Publisher publishes through History; immutable after New.
	Publisher *Publisher
	// Revocations revokes principals and orders their disconnection;
	// immutable after New.
	Revocations *Revocations

	rdb redis.UniversalClient // immutable after New
	sub SubscriberConfig      // immutable after New, shared fields filled in
}

// New returns a Broker on rdb. It does not contact Redis. The caller keeps
// ownership of rdb and closes it after every Subscriber's Run has returned.
func New(rdb redis.UniversalClient, cfg Config) (*Broker, error) {
	h, err := history.New(rdb, history.Config{
		Key:            cfg.NotificationsKey,
		Length:         cfg.NotificationsLength,
		DedupWindow:    cfg.DedupWindow,
		MaxMessageSize: cfg.MaxMessageSize,
		Logger:         cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	p, err := NewPublisher(rdb, h, PublisherConfig{
		Channel:        cfg.Channel,
		MaxMessageSize: cfg.MaxMessageSize,
		Resolver:       cfg.Resolver,
		Logger:         cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	rcfg := cfg.Revocations
	if rcfg.ControlChannel == "" {
		rcfg.ControlChannel = cfg.ControlChannel
	}
	if rcfg.Logger == nil {
		rcfg.Logger = cfg.Logger
	}
	rev, err := NewRevocations(rdb, rcfg)
	if err != nil {
		return nil, err
	}
	sub := cfg.Subscriber
	if sub.Channel == "" {
		sub.Channel = cfg.Channel
	}
	if sub.ControlChannel == "" {
		sub.ControlChannel = cfg.ControlChannel
	}
	if sub.MaxMessageSize == 0 {
		sub.MaxMessageSize = cfg.MaxMessageSize
	}
	if sub.Resolver == nil {
		sub.Resolver = cfg.Resolver
	}
	if sub.Logger == nil {
		sub.Logger = cfg.Logger
	}
	return &Broker{History: h, Publisher: p, Revocations: rev, rdb: rdb, sub: sub}, nil
}

// NewSubscriber returns a Subscriber that delivers to sink and stores into
// the Broker's History, configured by Config.Subscriber.
func (b *Broker) NewSubscriber(sink Sink) (*Subscriber, error) {
	return NewSubscriber(b.rdb, b.History, sink, b.sub)
}
