package pubsub_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/pubsub"
)

// orderSink records the ids it is handed, in order, per site. Only the
// dispatcher calls Deliver; tests read under the lock.
type orderSink struct {
	mu  sync.Mutex
	ids map[string][]string
}

func newOrderSink() *orderSink { return &orderSink{ids: map[string][]string{}} }

func (s *orderSink) Deliver(m *message.Message, _ []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ids[m.Host] = append(s.ids[m.Host], m.ID)
}

func (s *orderSink) of(host string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ids[host])
}

// Concurrent publishers, in two processes (two clients) and many goroutines
// each, publish to one site: the subscribers receive the site's messages in
// exactly the order its history list holds them, so that the ?since= cursor
// (a position in the list) means the same as the order a client received.
func TestPublisherHistoryOrderIsDeliveryOrder(t *testing.T) {
	t.Parallel()
	_, srv := realRedis(t)
	ctx := context.Background()
	channel := keyPrefix(t) + ":chan"
	const (
		goroutines = 8 // per publisher
		each       = 40
		total      = 2 * goroutines * each
	)
	hcfg := history.Config{Key: keyPrefix(t), Length: total}
	sub := newClient(t, srv.Addr())
	sink := newOrderSink()
	s := newSubscriber(t, sub, newHistory(t, sub, hcfg), sink, pubsub.SubscriberConfig{Channel: channel})
	run(t, s)
	poll.Until(t, "subscription", s.Ready)

	var pubs []*pubsub.Publisher
	for range 2 {
		rdb := newClient(t, srv.Addr())
		pubs = append(pubs, newPublisher(t, rdb, newHistory(t, rdb, hcfg), channel))
	}
	var wg sync.WaitGroup
	errs := make(chan error, total)
	for i, p := range pubs {
		for g := range goroutines {
			wg.Go(func() {
				for n := range each {
					m := newMessage(fmt.Sprintf("p%d g%d n%d", i, g, n))
					m.Channel = ""
					if err := p.Publish(ctx, m); err != nil {
						errs <- err
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Publish: %v", err)
	}
	poll.Until(t, "every message delivered", func() bool { return len(sink.of(testHost)) == total })

	list, err := newHistory(t, sub, hcfg).List(ctx, testHost)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	stored := ids(list)
	slices.Reverse(stored) // oldest first, as delivered
	delivered := sink.of(testHost)
	if !slices.Equal(stored, delivered) {
		first := 0
		for first < min(len(stored), len(delivered)) && stored[first] == delivered[first] {
			first++
		}
		t.Fatalf("history order differs from delivery order at position %d of %d (history %d entries)",
			first, len(delivered), len(stored))
	}
	if st := s.Stats(); st.HistoryWritten != 0 || st.HistoryDuplicates != total {
		t.Errorf("subscriber stats = %+v, want every message already stored by its publisher", st)
	}
}

// A message stored by the script is published once: a retry of Publish
// (after a lost reply, say) stores and publishes nothing more.
func TestPublisherRetryPublishesOnce(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			rdb, _ := b.New(t)
			ctx := context.Background()
			channel := keyPrefix(t) + ":chan"
			h := newHistory(t, rdb, history.Config{})
			pub := newPublisher(t, rdb, h, channel)
			raw := subscribeRaw(t, rdb, channel)
			m := newMessage("once")
			m.Channel = ""
			for range 3 {
				if err := pub.Publish(ctx, m); err != nil {
					t.Fatalf("Publish: %v", err)
				}
			}
			next := newMessage("next")
			next.Channel = ""
			if err := pub.Publish(ctx, next); err != nil {
				t.Fatalf("Publish: %v", err)
			}
			for _, want := range []string{m.ID, next.ID} {
				got, err := raw.ReceiveMessage(ctx)
				if err != nil {
					t.Fatalf("receive: %v", err)
				}
				d, err := message.Decode([]byte(got.Payload), 0)
				if err != nil || d.ID != want {
					t.Fatalf("received %.80s (%v), want id %s: a retry was published again", got.Payload, err, want)
				}
			}
			if st := h.Stats(); st.Added != 2 || st.Duplicates != 2 {
				t.Errorf("history stats = %+v, want 2 added, 2 duplicates", st)
			}
		})
	}
}

// A PUBLISH the script cannot make (an ACL refusing the channel) leaves
// nothing behind: not in the history, not marked as stored, so that the
// retry, once allowed, stores and publishes it.
func TestPublisherRollsBackRefusedPublish(t *testing.T) {
	t.Parallel()
	admin, srv := realRedis(t)
	ctx := context.Background()
	channel := keyPrefix(t) + ":chan"
	if _, err := srv.Do("ACL", "SETUSER", "pub", "on", ">secret", "~*", "+@all", "resetchannels"); err != nil {
		t.Fatalf("ACL SETUSER: %v", err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), Username: "pub", Password: "secret", MaxRetries: 1})
	t.Cleanup(func() { _ = rdb.Close() })
	h := newHistory(t, rdb, history.Config{})
	pub := newPublisher(t, rdb, h, channel)
	raw := subscribeRaw(t, admin, channel)

	m := newMessage("refused")
	m.Channel = ""
	if err := pub.Publish(ctx, m); err == nil {
		t.Fatal("Publish succeeded on a channel the user may not publish to")
	}
	if n, err := admin.LLen(ctx, h.ListKey(testHost)).Result(); err != nil || n != 0 {
		t.Fatalf("LLEN after a refused publish = %d, %v; want 0", n, err)
	}
	if _, err := srv.Do("ACL", "SETUSER", "pub", "allchannels"); err != nil {
		t.Fatalf("ACL SETUSER: %v", err)
	}
	if err := pub.Publish(ctx, m); err != nil {
		t.Fatalf("Publish once allowed: %v", err)
	}
	got, err := raw.ReceiveMessage(ctx)
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	if d, err := message.Decode([]byte(got.Payload), 0); err != nil || d.ID != m.ID {
		t.Fatalf("received %.80s, want %s", got.Payload, m.ID)
	}
	list, err := h.List(ctx, testHost)
	if err != nil || len(list) != 1 || list[0].ID != m.ID {
		t.Fatalf("history = %v, %v; want the message once", ids(list), err)
	}
}
