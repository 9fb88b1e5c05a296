package hatest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/pubsub"
)

// recorder is a Sink that counts deliveries per message id and remembers
// their order per site. It is safe for concurrent use.
type recorder struct {
	mu    sync.Mutex
	count map[string]int      // deliveries per id
	order map[string][]string // ids delivered per host, in delivery order
}

func newRecorder() *recorder { return &recorder{count: map[string]int{}, order: map[string][]string{}} }

// Deliver implements pubsub.Sink.
func (r *recorder) Deliver(m *message.Message, _ []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.count[m.ID]++
	r.order[m.Host] = append(r.order[m.Host], m.ID)
}

// delivered returns the ids delivered for host, in delivery order.
func (r *recorder) delivered(host string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.order[host])
}

// has reports whether every id was delivered at least once.
func (r *recorder) has(ids []string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range ids {
		if r.count[id] == 0 {
			return false
		}
	}
	return true
}

// counts returns a copy of the deliveries per id.
func (r *recorder) counts() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.count))
	for id, n := range r.count {
		out[id] = n
	}
	return out
}

// gateway is the Redis side of one notifyd process: its own client, History
// and Subscriber, wired as cmd/notifyd wires them, with a recorder in place
// of the websocket gateway.
type gateway struct {
	name string
	hist *history.Store
	sub  *pubsub.Subscriber
	sink *recorder
}

// startGateway starts a gateway on rdb; it is stopped at cleanup (before
// rdb is closed, since rdb was made first).
func startGateway(t testing.TB, name string, rdb redis.UniversalClient) *gateway {
	t.Helper()
	hist, err := history.New(rdb, history.Config{})
	if err != nil {
		t.Fatalf("NewHistory: %v", err)
	}
	g := &gateway{name: name, hist: hist, sink: newRecorder()}
	g.sub, err = pubsub.NewSubscriber(rdb, hist, g.sink, pubsub.SubscriberConfig{
		// Reconnect promptly after a failover; the defaults suit production.
		BackoffMin:          10 * time.Millisecond,
		BackoffMax:          250 * time.Millisecond,
		HealthCheckInterval: time.Second,
	})
	if err != nil {
		t.Fatalf("NewSubscriber: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.sub.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s: Run returned %v, want nil", name, err)
		}
	})
	return g
}

// waitReady waits until every gateway is subscribed and has re-subscribed
// at least reconnects times.
func waitReady(t testing.TB, reconnects uint64, gws ...*gateway) {
	t.Helper()
	poll.Until(t, fmt.Sprintf("gateways subscribed with %d reconnects", reconnects), func() bool {
		for _, g := range gws {
			if !g.sub.Ready() || g.sub.Stats().Reconnects < reconnects {
				return false
			}
		}
		return true
	})
}

// checkNoDrops checks that no gateway dropped a message.
func checkNoDrops(t testing.TB, gws ...*gateway) {
	t.Helper()
	for _, g := range gws {
		for reason, n := range g.sub.Stats().Dropped {
			if n != 0 {
				t.Errorf("%s dropped %d messages: %s", g.name, n, reason)
			}
		}
	}
}
