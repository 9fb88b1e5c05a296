package webhook_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/internal/redistest"
	"github.com/notifyd/notifyd/webhook"
)

// claimConfig is fastConfig with a short ClaimIdle (above Timeout +
// BackoffMax, as NewDispatcher demands).
func claimConfig(t testing.TB, consumer string) webhook.Config {
	cfg := fastConfig(t)
	cfg.Timeout, cfg.BackoffMin, cfg.BackoffMax, cfg.ClaimIdle = 500*time.Millisecond, 10*time.Millisecond, 20*time.Millisecond, 600*time.Millisecond
	cfg.Consumer = consumer
	return cfg
}

func TestDeadDispatcherJobTakenOver(t *testing.T) {
	t.Parallel()
	rdb := realRedis(t)
	first := make(chan struct{})
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 { // hold the first attempt until its dispatcher dies
			close(first)
			<-r.Context().Done()
		}
	})
	cfgA, cfgB := claimConfig(t, "gateway-a"), claimConfig(t, "gateway-b")
	s := newStore(t, rdb, cfgA)
	register(t, s, rc.URL, "s1")
	a := start(t, rdb, s, cfgA)
	enqueue(t, s, "s1", "m1")
	<-first
	a.stop() // the gateway dies mid-delivery
	p, err := rdb.XPendingExt(context.Background(), &redis.XPendingExtArgs{
		Stream: "{" + testKey(t) + "}:jobs", Group: "dispatchers", Start: "-", End: "+", Count: 10,
	}).Result()
	if err != nil || len(p) != 1 || p[0].Consumer != "gateway-a" {
		t.Fatalf("pending after the death of gateway-a = %+v, %v; want its one job", p, err)
	}

	b := start(t, rdb, newStore(t, rdb, cfgB), cfgB)
	poll.Until(t, "takeover", func() bool { return b.Stats().Delivered == 1 && streamEmpty(t, rdb) })
	b.stop()
	reqs := rc.requests()
	if len(reqs) != 2 || reqs[1].header.Get(webhook.HeaderDelivery) != reqs[0].header.Get(webhook.HeaderDelivery) {
		t.Fatalf("receiver got %d requests, want 2 with one delivery id", len(reqs))
	}
	if sa, sb := a.Stats(), b.Stats(); sa.Delivered != 0 || sb.Claimed != 1 || sb.Attempts != 1 {
		t.Fatalf("stats a %+v, b %+v: want b to take the job over and deliver it", sa, sb)
	}
}

func TestLiveRetriesNotTakenOver(t *testing.T) {
	t.Parallel()
	rdb := realRedis(t)
	// The receiver fails for twice ClaimIdle: the job stays with the
	// dispatcher that retries it, which refreshes its claim.
	var (
		mu    sync.Mutex
		since time.Time
	)
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if since.IsZero() {
			since = time.Now()
		}
		if time.Since(since) < 1200*time.Millisecond {
			w.WriteHeader(http.StatusBadGateway)
		}
	})
	cfgA, cfgB := claimConfig(t, "gateway-a"), claimConfig(t, "gateway-b")
	s := newStore(t, rdb, cfgA)
	register(t, s, rc.URL, "s1")
	a, b := start(t, rdb, s, cfgA), start(t, rdb, newStore(t, rdb, cfgB), cfgB)
	enqueue(t, s, "s1", "m1")
	poll.Until(t, "delivery", func() bool { return a.Stats().Delivered+b.Stats().Delivered == 1 && streamEmpty(t, rdb) })
	a.stop()
	b.stop()
	sa, sb := a.Stats(), b.Stats()
	if sa.Claimed+sb.Claimed != 0 || sa.Lost+sb.Lost != 0 || sa.Delivered+sb.Delivered != 1 {
		t.Fatalf("stats a %+v, b %+v: want one delivery, nothing taken over", sa, sb)
	}
	ids := map[string]bool{}
	for _, r := range rc.requests() {
		ids[r.header.Get(webhook.HeaderDelivery)] = true
	}
	if len(ids) != 1 {
		t.Fatalf("delivery ids %v, want one", ids)
	}
}

func TestRunStopsAndLeavesTheGroup(t *testing.T) {
	t.Parallel()
	rdb := realRedis(t)
	cfg := fastConfig(t)
	cfg.Consumer = "gateway-a"
	s := newStore(t, rdb, cfg)
	register(t, s, newReceiver(t, nil).URL, "s1")
	d := start(t, rdb, s, cfg)
	enqueue(t, s, "s1", "m1")
	stream := "{" + testKey(t) + "}:jobs"
	poll.Until(t, "a delivery", func() bool {
		c, err := rdb.XInfoConsumers(context.Background(), stream, "dispatchers").Result()
		return d.Stats().Delivered == 1 && err == nil && len(c) == 1
	})
	if err := d.Run(context.Background()); err == nil {
		t.Fatal("second Run: want an error")
	}
	d.stop() // Run returned: TestMain checks that no goroutine outlives the tests
	c, err := rdb.XInfoConsumers(context.Background(), stream, "dispatchers").Result()
	if err != nil || len(c) != 0 {
		t.Fatalf("consumers after Run = %+v, %v; want none", c, err)
	}
}

func TestCluster(t *testing.T) {
	t.Parallel()
	c := redistest.StartCluster(t, 3)
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs(), DialTimeout: time.Second})
	t.Cleanup(func() { _ = rdb.Close() })
	rc := newReceiver(t, nil)
	cfgA, cfgB := fastConfig(t), fastConfig(t)
	cfgA.Consumer, cfgB.Consumer = "gateway-a", "gateway-b"
	storeA, storeB := newStore(t, rdb, cfgA), newStore(t, rdb, cfgB)
	reg := register(t, storeA, rc.URL, "*")
	if list, err := storeB.List(context.Background(), testHost, testOwner); err != nil || len(list) != 1 {
		t.Fatalf("List = %+v, %v; want the registration", list, err)
	}
	a, b := start(t, rdb, storeA, cfgA), start(t, rdb, storeB, cfgB)
	want := 0
	for i, id := range []string{"m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8"} {
		want += enqueue(t, []*webhook.Store{storeA, storeB}[i%2], "s1", id)
	}
	poll.Until(t, "deliveries", func() bool {
		return int(a.Stats().Delivered+b.Stats().Delivered) == want && streamEmpty(t, rdb)
	})
	a.stop()
	b.stop()
	checkSigned(t, rc.requests())
	if want != 8 || rc.count() != want {
		t.Fatalf("queued %d, receiver got %d; want 8 each", want, rc.count())
	}
	if err := storeB.Delete(context.Background(), testHost, testOwner, reg.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
}
