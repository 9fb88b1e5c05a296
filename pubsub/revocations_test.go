package pubsub_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/pubsub"
)

// Revocations is the store auth.Revocable consults. The assertion lives in
// a test so that pubsub itself does not depend on auth.
var _ auth.RevocationStore = (*pubsub.Revocations)(nil)

func newRevocations(t testing.TB, rdb redis.UniversalClient, cfg pubsub.RevocationsConfig) *pubsub.Revocations {
	t.Helper()
	if cfg.Prefix == "" {
		cfg.Prefix = keyPrefix(t) + ":revoked:"
	}
	r, err := pubsub.NewRevocations(rdb, cfg)
	if err != nil {
		t.Fatalf("NewRevocations: %v", err)
	}
	return r
}

func TestNewRevocationsConfig(t *testing.T) {
	t.Parallel()
	rdb := newClient(t, "127.0.0.1:1") // never contacted
	if _, err := pubsub.NewRevocations(nil, pubsub.RevocationsConfig{}); err == nil {
		t.Error("NewRevocations(nil) succeeded")
	}
	if _, err := pubsub.NewRevocations(rdb, pubsub.RevocationsConfig{TTL: time.Microsecond}); err == nil {
		t.Error("NewRevocations with a TTL under a millisecond succeeded")
	}
	r, err := pubsub.NewRevocations(rdb, pubsub.RevocationsConfig{})
	if err != nil {
		t.Fatalf("NewRevocations with defaults: %v", err)
	}
	if got := r.Key("users:bob"); got != "notifyd:revoked:users:bob" {
		t.Errorf("Key = %q", got)
	}
}

func TestRevocations(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 18, 17, 20, 54, 123456789, time.UTC)
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			rdb, _ := b.New(t)
			ctx := context.Background()
			clock := now
			const ttl = time.Hour
			r := newRevocations(t, rdb, pubsub.RevocationsConfig{TTL: ttl, Now: func() time.Time { return clock }})

			if _, ok, err := r.RevokedAt(ctx, "users:bob"); ok || err != nil {
				t.Fatalf("RevokedAt before any revocation = %v, %v; want false, nil", ok, err)
			}
			at, err := r.Revoke(ctx, "users:bob")
			if err != nil {
				t.Fatalf("Revoke: %v", err)
			}
			if want := now.Truncate(time.Millisecond); !at.Equal(want) {
				t.Errorf("Revoke = %v, want %v (to the millisecond)", at, want)
			}
			got, ok, err := r.RevokedAt(ctx, "users:bob")
			if err != nil || !ok || !got.Equal(at) {
				t.Fatalf("RevokedAt = %v, %v, %v; want %v, true, nil", got, ok, err, at)
			}
			pttl, err := rdb.PTTL(ctx, r.Key("users:bob")).Result()
			if err != nil || pttl <= 0 || pttl > ttl {
				t.Errorf("PTTL = %v, %v; want within (0, %v]", pttl, err, ttl)
			}

			// A later revocation overwrites, and is remembered for TTL again.
			clock = now.Add(time.Minute)
			if _, err := r.Revoke(ctx, "users:bob"); err != nil {
				t.Fatalf("second Revoke: %v", err)
			}
			if got, _, _ := r.RevokedAt(ctx, "users:bob"); !got.Equal(clock.Truncate(time.Millisecond)) {
				t.Errorf("RevokedAt after a second revocation = %v, want %v", got, clock)
			}
			if _, ok, _ := r.RevokedAt(ctx, "users:carol"); ok {
				t.Error("another principal is revoked too")
			}

			// A value that is not a time fails closed, without blaming Redis.
			if err := rdb.Set(ctx, r.Key("users:dave"), "garbage", 0).Err(); err != nil {
				t.Fatalf("SET: %v", err)
			}
			if _, _, err := r.RevokedAt(ctx, "users:dave"); err == nil || errors.Is(err, pubsub.ErrUnavailable) {
				t.Errorf("RevokedAt of a corrupt value = %v, want a non-Redis error", err)
			}
		})
	}
}

func TestRevocationsExpire(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	rdb := newClient(t, mr.Addr())
	ctx := context.Background()
	r := newRevocations(t, rdb, pubsub.RevocationsConfig{TTL: time.Hour})
	if _, err := r.Revoke(ctx, "users:bob"); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	mr.FastForward(59 * time.Minute)
	if _, ok, _ := r.RevokedAt(ctx, "users:bob"); !ok {
		t.Fatal("revocation forgotten before its TTL")
	}
	mr.FastForward(2 * time.Minute)
	if _, ok, err := r.RevokedAt(ctx, "users:bob"); ok || err != nil {
		t.Errorf("RevokedAt after the TTL = %v, %v; want false, nil", ok, err)
	}
}

func TestRevocationsErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	down := newRevocations(t, newClient(t, "127.0.0.1:1"), pubsub.RevocationsConfig{})
	if _, err := down.Revoke(ctx, "users:bob"); !errors.Is(err, pubsub.ErrUnavailable) {
		t.Errorf("Revoke with Redis down = %v, want ErrUnavailable", err)
	}
	if _, _, err := down.RevokedAt(ctx, "users:bob"); !errors.Is(err, pubsub.ErrUnavailable) {
		t.Errorf("RevokedAt with Redis down = %v, want ErrUnavailable", err)
	}
	for _, p := range []string{"", strings.Repeat("x", 1025)} {
		_, err := down.Revoke(ctx, p)
		if !errors.Is(err, pubsub.ErrInvalidPrincipal) || !errors.Is(err, message.ErrInvalid) {
			t.Errorf("Revoke(%d bytes) = %v, want ErrInvalidPrincipal and message.ErrInvalid", len(p), err)
		}
		if _, _, err := down.RevokedAt(ctx, p); !errors.Is(err, pubsub.ErrInvalidPrincipal) {
			t.Errorf("RevokedAt(%d bytes) = %v, want ErrInvalidPrincipal", len(p), err)
		}
	}
}

// Revoke orders every gateway to disconnect the principal, and the token
// verifier refuses the principal's older tokens.
func TestRevokeDisconnects(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			rdb, _ := b.New(t)
			ctx := context.Background()
			control := keyPrefix(t) + ":control"
			now := time.Now()
			r := newRevocations(t, rdb, pubsub.RevocationsConfig{ControlChannel: control, Now: func() time.Time { return now }})
			var sinks []*controlSink
			for range 2 { // two gateways
				sink := &controlSink{conns: 1}
				s := newSubscriber(t, rdb, nil, sink, pubsub.SubscriberConfig{ControlChannel: control})
				run(t, s)
				poll.Until(t, "subscription", s.Ready)
				sinks = append(sinks, sink)
			}
			if _, err := r.Revoke(ctx, "users:bob"); err != nil {
				t.Fatalf("Revoke: %v", err)
			}
			for i, sink := range sinks {
				poll.Until(t, "the disconnect order", func() bool { return len(sink.principals()) == 1 })
				if got := sink.principals()[0]; got != "users:bob" {
					t.Errorf("gateway %d disconnected %q, want users:bob", i, got)
				}
			}

			secret := []byte(strings.Repeat("s", auth.MinSecretLength))
			v, err := auth.NewVerifier(auth.Config{Secret: secret, Now: func() time.Time { return now.Add(time.Minute) }})
			if err != nil {
				t.Fatalf("NewVerifier: %v", err)
			}
			verify := auth.Revocable{Verifier: v, Store: r}
			for _, tt := range []struct {
				issued  time.Time
				revoked bool
			}{
				{now.Add(-time.Minute), true},
				{now.Add(30 * time.Second), false},
			} {
				token, err := auth.Mint(secret, "users:bob", "", nil, tt.issued, time.Hour)
				if err != nil {
					t.Fatalf("Mint: %v", err)
				}
				if _, err := verify.Verify(ctx, token); errors.Is(err, auth.ErrRevoked) != tt.revoked {
					t.Errorf("token issued %v: Verify = %v, want revoked %v", tt.issued.Sub(now), err, tt.revoked)
				}
			}
		})
	}
}

// A ControlChannel configured on both reaches the Subscribers from the
// Revocations (cmd/notifyd sets it on both).
func TestControlChannelShared(t *testing.T) {
	t.Parallel()
	rdb, _ := backends[0].New(t)
	control := keyPrefix(t) + ":control"
	rev, err := pubsub.NewRevocations(rdb, pubsub.RevocationsConfig{
		Prefix: keyPrefix(t) + ":revoked:", ControlChannel: control,
	})
	if err != nil {
		t.Fatalf("NewRevocations: %v", err)
	}
	sink := &controlSink{}
	s := newSubscriber(t, rdb, nil, sink, pubsub.SubscriberConfig{ControlChannel: control})
	run(t, s)
	poll.Until(t, "subscription", s.Ready)
	if n := numSub(t, rdb, control); n != 1 {
		t.Fatalf("%d subscribers on %s, want 1", n, control)
	}
	if _, err := rev.Revoke(context.Background(), "users:bob"); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	poll.Until(t, "the disconnect order", func() bool { return len(sink.principals()) == 1 })
}
