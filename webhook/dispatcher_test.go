package webhook_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/internal/redistest"
	"github.com/notifyd/notifyd/webhook"
)

// realRedis is a client of a fresh redis-server.
func realRedis(t testing.TB) *redis.Client {
	t.Helper()
	return redistest.Client(t, redistest.Start(t).Addr())
}

// checkSigned fails t unless every request is signed with testSecret, has
// the documented headers and a delivery id.
func checkSigned(t testing.TB, reqs []request) {
	t.Helper()
	for _, r := range reqs {
		if err := webhook.Verify(testSecret, r.header, r.body, time.Now(), 0); err != nil {
			t.Errorf("request %s: %v", r.body, err)
		}
		if r.header.Get("Content-Type") != "application/json" || r.header.Get("User-Agent") != webhook.UserAgent ||
			r.header.Get(webhook.HeaderEvent) != "message" || r.header.Get(webhook.HeaderDelivery) == "" {
			t.Errorf("request headers %v", r.header)
		}
	}
}

// streamEmpty reports whether every job was settled: acknowledged and
// deleted, none waiting for a retry.
func streamEmpty(t testing.TB, rdb redis.UniversalClient) bool {
	ctx, stream := context.Background(), "{"+testKey(t)+"}:jobs"
	n, err1 := rdb.XLen(ctx, stream).Result()
	p, err2 := rdb.XPending(ctx, stream, "dispatchers").Result()
	r, err3 := rdb.ZCard(ctx, "{"+testKey(t)+"}:retry").Result()
	return err1 == nil && err2 == nil && err3 == nil && n == 0 && p.Count == 0 && r == 0
}

// deliverOne registers url for space s1, runs a dispatcher, enqueues one
// message of s1, waits until done holds of the stats and every job is
// settled, and stops the dispatcher.
func deliverOne(t testing.TB, rdb redis.UniversalClient, cfg webhook.Config, url string,
	done func(webhook.Stats) bool) (*webhook.Store, webhook.Stats) {
	t.Helper()
	s := newStore(t, rdb, cfg)
	register(t, s, url, "s1")
	d := start(t, rdb, s, cfg)
	enqueue(t, s, "s1", "m1")
	poll.Until(t, "the delivery settled", func() bool { return done(d.Stats()) && streamEmpty(t, rdb) })
	d.stop()
	return s, d.Stats()
}

func TestDeliveredOnceAcrossTwoGateways(t *testing.T) {
	t.Parallel()
	rdb := realRedis(t)
	// Every fourth request fails: retries cross gateways too.
	failed := func(n int) bool { return n%4 == 0 }
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if failed(n) {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	cfgA, cfgB := fastConfig(t), fastConfig(t)
	cfgA.Consumer, cfgB.Consumer = "gateway-a", "gateway-b"
	storeA, storeB := newStore(t, rdb, cfgA), newStore(t, rdb, cfgB)
	register(t, storeA, rc.URL+"/all", "*")
	register(t, storeA, rc.URL+"/even", "even")
	a, b := start(t, rdb, storeA, cfgA), start(t, rdb, storeB, cfgB)

	const n = 60
	want := 0
	for i := range n {
		space := []string{"even", "odd"}[i%2]
		store := []*webhook.Store{storeA, storeB}[i%3%2] // both gateways enqueue
		want += enqueue(t, store, space, fmt.Sprintf("m%d", i))
		enqueue(t, []*webhook.Store{storeB, storeA}[i%3%2], space, fmt.Sprintf("m%d", i)) // the other: a duplicate
	}
	if want != n+n/2 {
		t.Fatalf("queued %d jobs, want %d", want, n+n/2)
	}
	poll.Until(t, "every job delivered", func() bool {
		return int(a.Stats().Delivered+b.Stats().Delivered) >= want && streamEmpty(t, rdb)
	})
	a.stop()
	b.stop()
	reqs := rc.requests()
	checkSigned(t, reqs)
	accepted := map[string]int{} // delivery id -> 2xx answers
	for i, r := range reqs {
		if !failed(i + 1) {
			accepted[r.header.Get(webhook.HeaderDelivery)]++
		}
	}
	for id, n := range accepted {
		if n != 1 {
			t.Errorf("delivery %s accepted %d times", id, n)
		}
	}
	if len(accepted) != want {
		t.Fatalf("receiver accepted %d deliveries, want %d", len(accepted), want)
	}
	sa, sb := a.Stats(), b.Stats()
	if sa.Delivered == 0 || sb.Delivered == 0 || sa.Attempts+sb.Attempts != int64(len(reqs)) ||
		sa.Retries+sb.Retries != int64(len(reqs)-want) || sa.Pending+sb.Pending != 0 {
		t.Fatalf("stats %+v and %+v: want both delivering, one retry per failed attempt, nothing pending", sa, sb)
	}
}

func TestRetriesKeepTheDeliveryID(t *testing.T) {
	t.Parallel()
	rdb := realRedis(t)
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		switch n {
		case 1:
			w.WriteHeader(http.StatusInternalServerError)
		case 2:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	})
	cfg := fastConfig(t)
	_, st := deliverOne(t, rdb, cfg, rc.URL, func(st webhook.Stats) bool { return st.Delivered == 1 })
	reqs := rc.requests()
	checkSigned(t, reqs)
	if len(reqs) != 3 {
		t.Fatalf("receiver got %d requests, want 3", len(reqs))
	}
	for _, r := range reqs[1:] {
		if id := r.header.Get(webhook.HeaderDelivery); id != reqs[0].header.Get(webhook.HeaderDelivery) {
			t.Fatalf("delivery id %q, want %q on every attempt", id, reqs[0].header.Get(webhook.HeaderDelivery))
		}
	}
	if st.Attempts != 3 || st.Failed != 2 || st.GaveUp != 0 {
		t.Fatalf("stats %+v, want 3 attempts, 2 failed, none given up", st)
	}
}

func TestGiveUpAfterMaxAge(t *testing.T) {
	t.Parallel()
	rdb := realRedis(t)
	// The clock jumps a minute per attempt: MaxAge (10 minutes) passes
	// after about ten attempts, however fast they come.
	var minutes atomic.Int64
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		minutes.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	cfg := fastConfig(t)
	cfg.Now = func() time.Time { return time.Now().Add(time.Duration(minutes.Load()) * time.Minute) }
	cfg.MaxAge = 10 * time.Minute
	_, st := deliverOne(t, rdb, cfg, rc.URL, func(st webhook.Stats) bool { return st.GaveUp == 1 })
	if st.Delivered != 0 || st.Attempts < 9 || st.Attempts > 11 || st.Failed != st.Attempts {
		t.Fatalf("stats %+v: want about ten failed attempts, none delivered", st)
	}
}

func TestPermanentAnswers(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name       string
		status     int
		wantRemove bool
	}{
		{"bad request", http.StatusBadRequest, false},
		{"redirect not followed", http.StatusFound, false},
		{"gone removes the registration", http.StatusGone, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rdb := realRedis(t)
			target := newReceiver(t, nil)
			rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Location", target.URL)
				w.WriteHeader(tt.status)
			})
			cfg := fastConfig(t)
			s, st := deliverOne(t, rdb, cfg, rc.URL, func(st webhook.Stats) bool { return st.GaveUp == 1 })
			list, err := s.List(context.Background(), testHost, testOwner)
			if err != nil || (len(list) == 0) != tt.wantRemove {
				t.Fatalf("List = %v, %v; want removed %v", list, err, tt.wantRemove)
			}
			if st.Attempts != 1 || target.count() != 0 || (st.Removed == 1) != tt.wantRemove {
				t.Fatalf("stats %+v, redirect target got %d: want one attempt, no redirect", st, target.count())
			}
		})
	}
}

func TestDialTimeRefusal(t *testing.T) {
	t.Parallel()
	rdb := realRedis(t)
	rc := newReceiver(t, nil)
	cfg := fastConfig(t)
	cfg.AllowPrivate = false
	// At registration "localhost" resolves to a public address; at delivery
	// the system resolver says loopback, as a DNS rebinding attack would.
	cfg.LookupIP = fakeDNS(map[string]string{"localhost": "203.0.113.7"})
	_, port, _ := strings.Cut(rc.Listener.Addr().String(), "127.0.0.1:")
	_, st := deliverOne(t, rdb, cfg, "http://localhost:"+port+"/hook", func(st webhook.Stats) bool { return st.GaveUp == 1 })
	if st.Refused != 1 || st.Delivered != 0 || rc.count() != 0 {
		t.Fatalf("stats %+v, receiver got %d: want refused, nothing delivered", st, rc.count())
	}
}

func TestRetryKeepsTheBodyBytes(t *testing.T) {
	t.Parallel()
	rdb := realRedis(t)
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusBadGateway)
		}
	})
	cfg := fastConfig(t)
	s := newStore(t, rdb, cfg)
	register(t, s, rc.URL, "s1")
	d := start(t, rdb, s, cfg)
	// Separators of the retry encoding, a NUL, invalid UTF-8 and a newline.
	body := []byte("{\"body\":\"12:ab,3:x,\x00\xff\xfe\n:,\"}")
	if _, err := s.Enqueue(context.Background(), webhook.Event{Host: testHost, Space: "s1", ID: "m1", Body: body}); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	poll.Until(t, "delivery", func() bool { return d.Stats().Delivered == 1 })
	d.stop()
	reqs := rc.requests()
	checkSigned(t, reqs)
	if len(reqs) != 2 || string(reqs[0].body) != string(body) || string(reqs[1].body) != string(body) {
		t.Fatalf("receiver got %d requests, bodies %q; want 2 of %q", len(reqs), reqs, body)
	}
}
