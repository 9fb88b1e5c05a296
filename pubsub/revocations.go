package pubsub

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/message"
)

// Revocation defaults.
const (
	// DefaultRevocationPrefix prefixes the key of each revoked principal.
	DefaultRevocationPrefix = "notifyd:revoked:"
	// DefaultRevocationTTL is how long a revocation is remembered.
	DefaultRevocationTTL = 7 * 24 * time.Hour
)

// maxPrincipalBytes bounds the principals Revocations accepts.
const maxPrincipalBytes = 1024

// ErrInvalidPrincipal matches (errors.Is) the error of Revoke and RevokedAt
// for an empty principal or one longer than 1024 bytes. Such errors match
// message.ErrInvalid too.
var ErrInvalidPrincipal = errors.New("pubsub: invalid principal")

// RevocationsConfig configures Revocations.
type RevocationsConfig struct {
	// Prefix is prepended to the principal to make its key. Default
	// DefaultRevocationPrefix.
	Prefix string
	// TTL is how long a revocation is remembered. Tokens that live longer
	// than TTL are accepted again once it expires, so keep it above the
	// longest token lifetime. Default DefaultRevocationTTL; it must be at
	// least a millisecond.
	TTL time.Duration
	// ControlChannel is where Revoke publishes the disconnect order; it must
	// be the gateways' SubscriberConfig.ControlChannel. Default
	// DefaultControlChannel.
	ControlChannel string
	// Now is the clock of revocations. Default time.Now.
	Now func() time.Time
	// Logger receives an Info log per revocation. Default: discard.
	Logger *slog.Logger
}

// withDefaults returns c with every zero field set to its default.
func (c RevocationsConfig) withDefaults() RevocationsConfig {
	c.Prefix = cmp.Or(c.Prefix, DefaultRevocationPrefix)
	c.TTL = cmp.Or(c.TTL, DefaultRevocationTTL)
	c.ControlChannel = cmp.Or(c.ControlChannel, DefaultControlChannel)
	if c.Now == nil { // a func: cmp.Or cannot compare it
		c.Now = time.Now
	}
	c.Logger = cmp.Or(c.Logger, slog.New(slog.DiscardHandler))
	return c
}

// check validates c once defaults are applied; each error names its field.
func (c RevocationsConfig) check() error {
	if c.TTL < time.Millisecond {
		return fmt.Errorf("pubsub: revocations: TTL %v is under a millisecond", c.TTL)
	}
	return nil
}

// Revocations remembers when principals were revoked, in Redis, and tells
// every gateway to disconnect them. Each principal is one key
// "<Prefix><principal>" holding the revocation time in Unix milliseconds,
// so every command touches a single key (Redis Cluster safe). It satisfies
// auth.RevocationStore. Safe for concurrent use; it starts no goroutine.
type Revocations struct {
	// immutable after NewRevocations
	rdb     redis.UniversalClient
	prefix  string
	ttl     time.Duration
	channel string
	now     func() time.Time
	log     *slog.Logger
}

// NewRevocations returns Revocations on rdb. It does not contact Redis.
func NewRevocations(rdb redis.UniversalClient, cfg RevocationsConfig) (*Revocations, error) {
	if rdb == nil {
		return nil, errors.New("pubsub: revocations: nil redis client")
	}
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	return &Revocations{rdb: rdb, prefix: cfg.Prefix, ttl: cfg.TTL, channel: cfg.ControlChannel,
		now: cfg.Now, log: cfg.Logger}, nil
}

// Key returns the Redis key of principal's revocation.
func (r *Revocations) Key(principal string) string { return r.prefix + principal }

// Revoke records that principal is revoked now, replacing any earlier
// revocation and remembering it for TTL, then publishes a disconnect order
// on the control channel so that every gateway closes the principal's
// connections. It returns the revocation time, to the millisecond (what
// RevokedAt returns). Redis errors match ErrUnavailable; when the PUBLISH
// fails the revocation is stored but open connections stay: retrying is
// safe. An invalid principal matches ErrInvalidPrincipal.
func (r *Revocations) Revoke(ctx context.Context, principal string) (time.Time, error) {
	if err := checkPrincipal(principal); err != nil {
		return time.Time{}, fmt.Errorf("pubsub: revoke: %w", err)
	}
	ms := r.now().UnixMilli()
	at := time.UnixMilli(ms).UTC()
	if err := r.rdb.Set(ctx, r.Key(principal), ms, r.ttl).Err(); err != nil {
		return time.Time{}, unavailable(ctx, "revoke", err)
	}
	order, err := json.Marshal(ControlMessage{Action: ActionDisconnect, Principal: principal, At: at})
	if err != nil {
		return time.Time{}, fmt.Errorf("pubsub: revoke: encode disconnect order: %w", err)
	}
	n, err := r.rdb.Publish(ctx, r.channel, order).Result()
	if err != nil {
		return time.Time{}, unavailable(ctx, fmt.Sprintf("revoke: publish %q", r.channel), err)
	}
	r.log.Info("pubsub: principal revoked", "principal", principal, "at", at, "gateways", n)
	return at, nil
}

// RevokedAt returns when principal was last revoked and true, or false when
// it never was or its revocation has expired. Redis errors match
// ErrUnavailable; a value that is not a Unix millisecond time is an error
// too, so that callers fail closed.
func (r *Revocations) RevokedAt(ctx context.Context, principal string) (time.Time, bool, error) {
	if err := checkPrincipal(principal); err != nil {
		return time.Time{}, false, fmt.Errorf("pubsub: revoked at: %w", err)
	}
	v, err := r.rdb.Get(ctx, r.Key(principal)).Result()
	if errors.Is(err, redis.Nil) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, unavailable(ctx, "revoked at", err)
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("pubsub: revoked at: key %q holds %q, not a time: %w",
			r.Key(principal), truncate(v, 64), err)
	}
	return time.UnixMilli(ms).UTC(), true, nil
}

func checkPrincipal(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("%w: %w", ErrInvalidPrincipal, &message.FieldError{Field: "principal", Reason: "is required"})
	case len(p) > maxPrincipalBytes:
		return fmt.Errorf("%w: %w", ErrInvalidPrincipal, &message.FieldError{Field: "principal",
			Reason: fmt.Sprintf("is longer than %d bytes", maxPrincipalBytes)})
	}
	return nil
}
