package webhook_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/internal/redistest"
	"github.com/notifyd/notifyd/webhook"
)

// claimConfig is fastConfig with a short ClaimIdle (above Timeout, as
// NewDispatcher demands).
func claimConfig(t testing.TB, consumer string) webhook.Config {
	cfg := fastConfig(t)
	cfg.Timeout, cfg.ClaimIdle = 500*time.Millisecond, 600*time.Millisecond
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
	if bl, err := a.Backlog(context.Background()); err != nil || bl != (webhook.Backlog{Stream: 1, Held: 1}) {
		t.Fatalf("Backlog = %+v, %v; want the one job held", bl, err)
	}
	p, err := rdb.XPendingExt(context.Background(), &redis.XPendingExtArgs{
		Stream: "{" + testKey(t) + "}:jobs", Group: "dispatchers", Start: "-", End: "+", Count: 10,
	}).Result()
	if err != nil || len(p) != 1 || p[0].Consumer != "gateway-a" {
		t.Fatalf("pending after the death of gateway-a = %+v, %v; want its one job", p, err)
	}

	b := start(t, rdb, newStore(t, rdb, cfgB), cfgB)
	poll.Until(t, "takeover", func() bool { return b.Stats().Delivered == 1 && streamEmpty(t, rdb) })
	poll.Until(t, "the dead consumer pruned", func() bool {
		c, err := rdb.XInfoConsumers(context.Background(), "{"+testKey(t)+"}:jobs", "dispatchers").Result()
		return err == nil && !slices.ContainsFunc(c, func(c redis.XInfoConsumer) bool { return c.Name == "gateway-a" })
	})
	b.stop()
	reqs := rc.requests()
	if len(reqs) != 2 || reqs[1].header.Get(webhook.HeaderDelivery) != reqs[0].header.Get(webhook.HeaderDelivery) {
		t.Fatalf("receiver got %d requests, want 2 with one delivery id", len(reqs))
	}
	if sa, sb := a.Stats(), b.Stats(); sa.Delivered != 0 || sb.Claimed != 1 || sb.Attempts != 1 {
		t.Fatalf("stats a %+v, b %+v: want b to take the job over and deliver it", sa, sb)
	}
}

func TestRetriesHoldNoWorker(t *testing.T) {
	t.Parallel()
	rdb := realRedis(t)
	down := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	up := newReceiver(t, nil)
	cfg := fastConfig(t)
	cfg.Concurrency = 1 // one worker: a job waiting for its retry must not hold it
	// A frozen clock: a failed job is never due again, and its endpoint's
	// breaker stays open.
	frozen := time.Now()
	cfg.Now = func() time.Time { return frozen }
	cfg.BackoffMin, cfg.BackoffMax = time.Minute, time.Minute
	s := newStore(t, rdb, cfg)
	register(t, s, down.URL, "down")
	register(t, s, up.URL, "up")
	d := start(t, rdb, s, cfg)
	for _, id := range []string{"m1", "m2", "m3"} {
		enqueue(t, s, "down", id)
	}
	poll.Until(t, "a failed attempt", func() bool { return d.Stats().Retries >= 1 })
	for _, id := range []string{"m4", "m5", "m6"} {
		enqueue(t, s, "up", id)
	}
	poll.Until(t, "the healthy endpoint's deliveries", func() bool { return d.Stats().Delivered == 3 })
	d.stop()
	if bl, err := d.Backlog(context.Background()); err != nil || bl != (webhook.Backlog{Retrying: 3}) {
		t.Fatalf("Backlog = %+v, %v; want the 3 jobs of the down endpoint waiting", bl, err)
	}
	st := d.Stats()
	if st.Attempts != 4 || st.Delivered != 3 || st.Retries != 1 || st.Deferred != 2 || down.count() != 1 {
		t.Fatalf("stats %+v, down endpoint got %d: want one failed attempt, two jobs deferred unattempted, 3 delivered",
			st, down.count())
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
	if bl, err := a.Backlog(context.Background()); err != nil || bl != (webhook.Backlog{}) {
		t.Fatalf("Backlog = %+v, %v; want empty", bl, err)
	}
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
