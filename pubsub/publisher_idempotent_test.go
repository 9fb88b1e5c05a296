package pubsub_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/pubsub"
)

// tickingClock returns a clock that moves a second forward at each call, so
// that every publish attempt gets its own id and timestamp.
func tickingClock() func() time.Time {
	var n atomic.Int64
	start := time.Date(2025, 1, 18, 17, 20, 54, 0, time.UTC)
	return func() time.Time { return start.Add(time.Duration(n.Add(1)) * time.Second) }
}

// fresh is a message as a caller sends it on every attempt: no id, no
// timestamp.
func fresh(title string) *message.Message {
	m := newMessage(title)
	m.ID, m.Timestamp, m.Channel = "", "", ""
	return m
}

// newIdemPublisher returns a publisher (a gateway) on channel with its own
// history store of the test's key.
func newIdemPublisher(t testing.TB, rdb redis.UniversalClient, h pubsub.PublisherHistory, channel string) *pubsub.Publisher {
	t.Helper()
	pub, err := pubsub.NewPublisher(rdb, h, pubsub.PublisherConfig{Channel: channel, Now: tickingClock()})
	if err != nil {
		t.Fatalf("NewPublisher: %v", err)
	}
	return pub
}

// wantOnePublished checks that exactly the messages with ids were published
// on channel since ps subscribed, in order: a marker published last comes
// right after them.
func wantOnePublished(t testing.TB, rdb redis.UniversalClient, ps *redis.PubSub, channel string, ids ...string) {
	t.Helper()
	ctx := context.Background()
	publish(t, rdb, channel, "marker")
	for _, id := range append(ids, "marker") {
		got, err := ps.ReceiveMessage(ctx)
		if err != nil {
			t.Fatalf("receive: %v", err)
		}
		if id == "marker" {
			if got.Payload != "marker" {
				t.Fatalf("published %.120s, want nothing more", got.Payload)
			}
			continue
		}
		m, err := message.Decode([]byte(got.Payload), 0)
		if err != nil || m.ID != id {
			t.Fatalf("published %.120s, want id %s", got.Payload, id)
		}
	}
}

func TestPublishIdempotentKey(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			rdb, _ := b.New(t)
			ctx := context.Background()
			channel := keyPrefix(t) + ":chan"
			ps := subscribeRaw(t, rdb, channel)
			// Two gateways: two publishers, each with its own store, one Redis.
			h1 := newHistory(t, rdb, history.Config{})
			gw1 := newIdemPublisher(t, rdb, h1, channel)
			gw2 := newIdemPublisher(t, rdb, newHistory(t, rdb, history.Config{}), channel)

			first := fresh("order 42")
			replayed, err := gw1.PublishIdempotent(ctx, "key-42", first)
			if err != nil || replayed {
				t.Fatalf("first PublishIdempotent = %v, %v; want stored", replayed, err)
			}
			for i, pub := range []*pubsub.Publisher{gw1, gw2} {
				retry := fresh("order 42")
				replayed, err := pub.PublishIdempotent(ctx, "key-42", retry)
				if err != nil || !replayed {
					t.Fatalf("retry %d = %v, %v; want replayed", i, replayed, err)
				}
				if retry.ID != first.ID || retry.Timestamp != first.Timestamp {
					t.Errorf("retry %d answered %s %s, want the first answer %s %s",
						i, retry.ID, retry.Timestamp, first.ID, first.Timestamp)
				}
			}
			list, err := h1.List(ctx, testHost)
			if err != nil || len(list) != 1 || list[0].ID != first.ID {
				t.Fatalf("history = %v, %v; want only %s", ids(list), err, first.ID)
			}
			wantOnePublished(t, rdb, ps, channel, first.ID)

			// Another message under the same key is refused.
			other := fresh("order 43")
			if _, err := gw2.PublishIdempotent(ctx, "key-42", other); !errors.Is(err, pubsub.ErrIdempotencyConflict) {
				t.Fatalf("reused key: err = %v, want ErrIdempotencyConflict", err)
			}
			// Publish without a key is not idempotent: a new message.
			again := fresh("order 42")
			if err := gw1.Publish(ctx, again); err != nil || again.ID == first.ID {
				t.Fatalf("Publish without key = %v, id %s; want a new message", err, again.ID)
			}
			wantOnePublished(t, rdb, ps, channel, again.ID)
		})
	}
}

// The caller's own id makes a retry answer as the first attempt did.
func TestPublishSameIDAnswersFirst(t *testing.T) {
	t.Parallel()
	rdb, _ := realRedis(t)
	ctx := context.Background()
	channel := keyPrefix(t) + ":chan"
	ps := subscribeRaw(t, rdb, channel)
	h := newHistory(t, rdb, history.Config{})
	gw1 := newIdemPublisher(t, rdb, h, channel)
	gw2 := newIdemPublisher(t, rdb, newHistory(t, rdb, history.Config{}), channel)
	first := fresh("mine")
	first.ID = "order-42"
	if err := gw1.Publish(ctx, first); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	retry := fresh("mine")
	retry.ID = "order-42"
	replayed, err := gw2.PublishIdempotent(ctx, "", retry)
	if err != nil || !replayed || retry.Timestamp != first.Timestamp {
		t.Fatalf("retry = %v, %v, timestamp %q; want replayed with the first timestamp %q",
			replayed, err, retry.Timestamp, first.Timestamp)
	}
	wantOnePublished(t, rdb, ps, channel, "order-42")
}

// lostAnswer is a history whose first append succeeds in Redis but
// reports a failure, as when Redis dies before its answer arrives.
type lostAnswer struct {
	pubsub.PublisherHistory
	lost atomic.Bool
}

func (h *lostAnswer) AppendPublishOnce(ctx context.Context, channel string, e history.Entry, idem history.Idempotency) (history.Result, error) {
	r, err := h.PublisherHistory.AppendPublishOnce(ctx, channel, e, idem)
	if err == nil && h.lost.CompareAndSwap(false, true) {
		return history.Result{}, history.ErrUnavailable
	}
	return r, err
}

func TestPublishIdempotentRetries(t *testing.T) {
	t.Parallel()
	t.Run("stored, answer lost", func(t *testing.T) {
		t.Parallel()
		rdb, _ := realRedis(t)
		ctx := context.Background()
		channel := keyPrefix(t) + ":chan"
		ps := subscribeRaw(t, rdb, channel)
		h := newHistory(t, rdb, history.Config{})
		pub := newIdemPublisher(t, rdb, &lostAnswer{PublisherHistory: h}, channel)
		m := fresh("lost")
		if _, err := pub.PublishIdempotent(ctx, "k", m); !errors.Is(err, pubsub.ErrUnavailable) {
			t.Fatalf("first attempt: err = %v, want ErrUnavailable", err)
		}
		stored := m.ID
		retry := fresh("lost")
		replayed, err := pub.PublishIdempotent(ctx, "k", retry)
		if err != nil || !replayed || retry.ID != stored {
			t.Fatalf("retry = %v, %v, id %s; want replayed with %s", replayed, err, retry.ID, stored)
		}
		wantOnePublished(t, rdb, ps, channel, stored)
	})
	t.Run("not stored, Redis down", func(t *testing.T) {
		t.Parallel()
		rdb, srv := realRedis(t)
		ctx := context.Background()
		h := newHistory(t, rdb, history.Config{})
		pub := newIdemPublisher(t, rdb, h, keyPrefix(t)+":chan")
		srv.Stop()
		if _, err := pub.PublishIdempotent(ctx, "k", fresh("down")); !errors.Is(err, pubsub.ErrUnavailable) {
			t.Fatalf("attempt with Redis stopped: err = %v, want ErrUnavailable", err)
		}
		srv.Restart()
		var replayed bool
		var err error
		poll.Until(t, "a retry to reach the restarted Redis", func() bool {
			replayed, err = pub.PublishIdempotent(ctx, "k", fresh("down"))
			return !errors.Is(err, pubsub.ErrUnavailable)
		})
		if err != nil || replayed {
			t.Fatalf("retry = %v, %v; want stored", replayed, err)
		}
		if list, err := h.List(ctx, testHost); err != nil || len(list) != 1 {
			t.Fatalf("history = %v, %v; want one message", ids(list), err)
		}
	})
	t.Run("no history", func(t *testing.T) {
		t.Parallel()
		rdb, _ := realRedis(t)
		pub := newIdemPublisher(t, rdb, nil, keyPrefix(t))
		if _, err := pub.PublishIdempotent(context.Background(), "k", fresh("x")); !errors.Is(err, pubsub.ErrNoHistory) {
			t.Fatalf("PublishIdempotent without history: err = %v, want ErrNoHistory", err)
		}
	})
}
