package pubsub

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/history"
)

// AnnouncerConfig configures an Announcer.
type AnnouncerConfig struct {
	// ControlChannel is where the Announcer publishes; it must be the
	// gateways' SubscriberConfig.ControlChannel. Default
	// DefaultControlChannel.
	ControlChannel string
	// Logger receives a Debug log per announcement. Default: discard.
	Logger *slog.Logger
}

// Announcer tells every gateway, on the control channel, that a user's
// inbox counts or preferences changed on a site, so that each pushes the
// counts to the user's connections (InboxSink). The REST API calls it after
// each read, unread, seen or preferences change. Safe for concurrent use;
// it starts no goroutine.
type Announcer struct {
	// immutable after NewAnnouncer
	rdb     redis.UniversalClient
	channel string
	log     *slog.Logger
}

// NewAnnouncer returns an Announcer publishing with rdb. It does not
// contact Redis.
func NewAnnouncer(rdb redis.UniversalClient, cfg AnnouncerConfig) (*Announcer, error) {
	if rdb == nil {
		return nil, errors.New("pubsub: announcer: nil redis client")
	}
	return &Announcer{
		rdb:     rdb,
		channel: cmp.Or(cfg.ControlChannel, DefaultControlChannel),
		log:     cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler)),
	}, nil
}

// Counts announces user's new counts on host: {"action":"inbox",...}.
// Errors: fields out of the control message's bounds match
// message.ErrInvalid; Redis failures ErrUnavailable.
func (a *Announcer) Counts(ctx context.Context, host, user string, c history.Counts) error {
	msg := ControlMessage{Action: ActionInbox, Host: host, User: user, Unread: c.Unread, Unseen: c.Unseen}
	return a.announce(ctx, msg, struct {
		Action string `json:"action"`
		Host   string `json:"host"`
		User   string `json:"user"`
		Unread int    `json:"unread"`
		Unseen int    `json:"unseen"`
	}{msg.Action, host, user, c.Unread, c.Unseen})
}

// Prefs announces user's new preferences on host: {"action":"prefs",...};
// at most MaxMuted muted categories of at most MaxMutedLength bytes.
// Errors are Counts'.
func (a *Announcer) Prefs(ctx context.Context, host, user string, p history.Prefs) error {
	muted := p.Muted
	if muted == nil {
		muted = []string{} // "muted":[] says "nothing muted" to every reader
	}
	msg := ControlMessage{Action: ActionPrefs, Host: host, User: user, Muted: muted}
	return a.announce(ctx, msg, struct {
		Action string   `json:"action"`
		Host   string   `json:"host"`
		User   string   `json:"user"`
		Muted  []string `json:"muted"`
	}{msg.Action, host, user, muted})
}

// announce checks c and publishes v, its JSON form.
func (a *Announcer) announce(ctx context.Context, c ControlMessage, v any) error {
	if err := checkInbox(c); err != nil {
		return fmt.Errorf("pubsub: announce %s: %w", c.Action, err)
	}
	payload, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("pubsub: announce %s: %w", c.Action, err)
	}
	if len(payload) > maxControlSize { // cannot happen within checkInbox's bounds
		return fmt.Errorf("pubsub: announce %s: %d bytes, limit %d", c.Action, len(payload), maxControlSize)
	}
	if err := a.rdb.Publish(ctx, a.channel, payload).Err(); err != nil {
		return unavailable(ctx, fmt.Sprintf("announce %s on %q", c.Action, a.channel), err)
	}
	a.log.Debug("pubsub: announced", "action", c.Action, "host", c.Host, "user", c.User)
	return nil
}
