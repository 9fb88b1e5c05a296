package history_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/internal/redistest"
)

const (
	firstTS  = "2025-01-18T17:20:54.123456+00:00"
	secondTS = "2025-01-18T17:21:30.000000+00:00"
)

// entry returns an entry of testHost with the given id and timestamp.
func entry(id, ts string) history.Entry {
	m := newMessage(id)
	m.ID, m.Timestamp = id, ts
	return history.Entry{Host: testHost, ID: id, Stored: m.AppendJSON(nil, true), Timestamp: ts}
}

// subscribe subscribes to channel and waits for the confirmation.
func subscribe(t testing.TB, rdb redis.UniversalClient, channel string) *redis.PubSub {
	t.Helper()
	ps := rdb.Subscribe(context.Background(), channel)
	t.Cleanup(func() { _ = ps.Close() })
	if _, err := ps.ReceiveTimeout(context.Background(), 5*time.Second); err != nil {
		t.Fatalf("subscription confirmation: %v", err)
	}
	return ps
}

// wantPublished checks that the next payloads on ps are the stored forms
// of entries, in order, and nothing else: a marker published last must
// come right after them.
func wantPublished(t testing.TB, rdb redis.UniversalClient, ps *redis.PubSub, channel string, entries ...history.Entry) {
	t.Helper()
	wantNext(t, rdb, ps, channel, func(p string) string { return p }, entries...)
}

// wantDelivered is wantPublished for the deliveries ("m <seq> <stored>")
// of the delivery channel.
func wantDelivered(t testing.TB, rdb redis.UniversalClient, ps *redis.PubSub, channel string, entries ...history.Entry) {
	t.Helper()
	wantNext(t, rdb, ps, channel, func(p string) string {
		if d, err := history.ParseDelivery(p); err == nil {
			return string(d.Stored)
		}
		return p
	}, entries...)
}

// wantNext checks that stored(p) of the next payloads p on ps are the
// stored forms of entries, then a marker it publishes.
func wantNext(t testing.TB, rdb redis.UniversalClient, ps *redis.PubSub, channel string, stored func(string) string, entries ...history.Entry) {
	t.Helper()
	ctx := context.Background()
	if err := rdb.Publish(ctx, channel, "marker").Err(); err != nil {
		t.Fatalf("PUBLISH marker: %v", err)
	}
	for _, want := range append(entries, history.Entry{Stored: []byte("marker")}) {
		got, err := ps.ReceiveMessage(ctx)
		if err != nil {
			t.Fatalf("receive: %v", err)
		}
		if p := stored(got.Payload); p != string(want.Stored) {
			t.Fatalf("published %.80s, want %.80s", p, want.Stored)
		}
	}
}

func TestAppendPublishOnceKey(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			rdb, _ := b.New(t)
			ctx := context.Background()
			channel := "chan:" + t.Name()
			ps := subscribe(t, rdb, channel)
			// Two Stores on one Redis stand for two gateways.
			h1 := newHistory(t, rdb, history.Config{})
			h2 := newHistory(t, rdb, history.Config{Key: "test:" + "TestAppendPublishOnceKey:" + b.Name})
			idem := history.Idempotency{Key: "publisher-a:order-42", Fingerprint: "fp1"}

			first := entry("01JHWX2X3B0000000000000001", firstTS)
			r, err := h1.AppendPublishOnce(ctx, channel, first, idem)
			want := history.Result{Added: true, ID: first.ID, Timestamp: firstTS}
			if err != nil || r != want {
				t.Fatalf("first AppendPublishOnce = %+v, %v; want %+v", r, err, want)
			}
			// The retry, on the other gateway, got a fresh id and time.
			retry := entry("01JHWX2X3B0000000000000002", secondTS)
			r, err = h2.AppendPublishOnce(ctx, channel, retry, idem)
			want = history.Result{Replayed: true, ID: first.ID, Timestamp: firstTS}
			if err != nil || r != want {
				t.Fatalf("retry AppendPublishOnce = %+v, %v; want %+v", r, err, want)
			}
			list, err := h1.List(ctx, testHost)
			if err != nil || len(list) != 1 || list[0].ID != first.ID {
				t.Fatalf("List = %v, %v; want only %s", ids(list), err, first.ID)
			}
			wantPublished(t, rdb, ps, channel, first)

			// The same key with another message is refused, and stores nothing.
			other := idem
			other.Fingerprint = "fp2"
			_, err = h2.AppendPublishOnce(ctx, channel, entry("01JHWX2X3B0000000000000003", secondTS), other)
			if !errors.Is(err, history.ErrIdempotencyConflict) {
				t.Fatalf("reused key: err = %v, want ErrIdempotencyConflict", err)
			}
			var conflict interface{ IdempotencyConflict() bool }
			if !errors.As(err, &conflict) || !conflict.IdempotencyConflict() {
				t.Errorf("reused key: err %v has no IdempotencyConflict method", err)
			}
			// Another key is another message.
			third := entry("01JHWX2X3B0000000000000004", secondTS)
			r, err = h2.AppendPublishOnce(ctx, channel, third, history.Idempotency{Key: "publisher-b:order-42", Fingerprint: "fp1"})
			if err != nil || !r.Added {
				t.Fatalf("other key = %+v, %v; want stored", r, err)
			}
			if n, err := rdb.LLen(ctx, h1.ListKey(testHost)).Result(); err != nil || n != 2 {
				t.Fatalf("LLEN = %d, %v; want 2", n, err)
			}
			wantPublished(t, rdb, ps, channel, third)
		})
	}
}

func TestAppendPublishOnceWindow(t *testing.T) {
	t.Parallel()
	rdb, _ := realRedis(t)
	ctx := context.Background()
	h := newHistory(t, rdb, history.Config{DedupWindow: time.Minute, IdempotencyWindow: time.Hour})
	if _, err := h.AppendPublishOnce(ctx, "c", entry("id-1", firstTS), history.Idempotency{Key: "k"}); err != nil {
		t.Fatalf("AppendPublishOnce: %v", err)
	}
	keys, err := rdb.Keys(ctx, "{"+h.ListKey(testHost)+"}:idem:*").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("idempotency keys = %v, %v; want one in the list's hash tag", keys, err)
	}
	if ttl, err := rdb.PTTL(ctx, keys[0]).Result(); err != nil || ttl <= time.Minute || ttl > time.Hour {
		t.Errorf("PTTL of the idempotency key = %v, %v; want within IdempotencyWindow, beyond DedupWindow", ttl, err)
	}
	// Once the id is forgotten the key still answers.
	if err := rdb.Del(ctx, "{"+h.ListKey(testHost)+"}:seen:id-1").Err(); err != nil {
		t.Fatalf("DEL: %v", err)
	}
	r, err := h.AppendPublishOnce(ctx, "c", entry("id-2", secondTS), history.Idempotency{Key: "k"})
	if want := (history.Result{Replayed: true, ID: "id-1", Timestamp: firstTS}); err != nil || r != want {
		t.Fatalf("retry after the dedup window = %+v, %v; want %+v", r, err, want)
	}
}

func TestAppendPublishOnceSameID(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			rdb, _ := b.New(t)
			ctx := context.Background()
			h := newHistory(t, rdb, history.Config{})
			if _, err := h.AppendPublishOnce(ctx, "c", entry("id-1", firstTS), history.Idempotency{}); err != nil {
				t.Fatalf("AppendPublishOnce: %v", err)
			}
			// A retry with the caller's id: the first timestamp, not the retry's.
			r, err := h.AppendPublishOnce(ctx, "c", entry("id-1", secondTS), history.Idempotency{})
			if want := (history.Result{ID: "id-1", Timestamp: firstTS}); err != nil || r != want {
				t.Fatalf("retry = %+v, %v; want %+v", r, err, want)
			}
			// A seen key written by an older version holds "1": no timestamp.
			if err := rdb.Set(ctx, "{"+h.ListKey(testHost)+"}:seen:old", "1", time.Minute).Err(); err != nil {
				t.Fatalf("SET: %v", err)
			}
			r, err = h.AppendPublishOnce(ctx, "c", entry("old", secondTS), history.Idempotency{})
			if want := (history.Result{ID: "old"}); err != nil || r != want {
				t.Fatalf("duplicate of an old entry = %+v, %v; want %+v", r, err, want)
			}
			// Batches remember timestamps too.
			if _, err := h.AppendBatch(ctx, []history.Entry{entry("id-2", firstTS)}); err != nil {
				t.Fatalf("AppendBatch: %v", err)
			}
			r, err = h.AppendPublishOnce(ctx, "c", entry("id-2", secondTS), history.Idempotency{})
			if want := (history.Result{ID: "id-2", Timestamp: firstTS}); err != nil || r != want {
				t.Fatalf("publish of a batch-stored id = %+v, %v; want %+v", r, err, want)
			}
		})
	}
}

// A store that fails leaves the key free: the retry stores the message.
func TestAppendPublishOnceFailureFreesKey(t *testing.T) {
	t.Parallel()
	rdb, srv := realRedis(t)
	ctx := context.Background()
	h := newHistory(t, rdb, history.Config{})
	idem := history.Idempotency{Key: "k", Fingerprint: "fp"}
	// Something else overwrote the list: the script fails after its first
	// writes (the seen key) and must undo them.
	if err := rdb.Set(ctx, h.ListKey(testHost), "not a list", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if _, err := h.AppendPublishOnce(ctx, "c", entry("id-1", firstTS), idem); err == nil {
		t.Fatal("AppendPublishOnce on a string key succeeded")
	}
	if err := rdb.Del(ctx, h.ListKey(testHost)).Err(); err != nil {
		t.Fatalf("DEL: %v", err)
	}
	// Redis is down for the next attempt.
	srv.Stop()
	if _, err := h.AppendPublishOnce(ctx, "c", entry("id-2", firstTS), idem); !errors.Is(err, history.ErrUnavailable) {
		t.Fatalf("AppendPublishOnce with Redis stopped: err = %v, want ErrUnavailable", err)
	}
	srv.Restart()
	var r history.Result
	var err error
	poll.Until(t, "a retry to reach the restarted Redis", func() bool {
		r, err = h.AppendPublishOnce(ctx, "c", entry("id-3", secondTS), idem)
		return !errors.Is(err, history.ErrUnavailable)
	})
	if want := (history.Result{Added: true, ID: "id-3", Timestamp: secondTS}); err != nil || r != want {
		t.Fatalf("retry = %+v, %v; want %+v", r, err, want)
	}
	list, err := h.List(ctx, testHost)
	if err != nil || len(list) != 1 || list[0].ID != "id-3" {
		t.Fatalf("List = %v, %v; want only id-3", ids(list), err)
	}
}

func TestAppendPublishOnceCluster(t *testing.T) {
	t.Parallel()
	c := redistest.StartCluster(t, 3)
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	t.Cleanup(func() { _ = rdb.Close() })
	ctx := context.Background()
	h := newHistory(t, rdb, history.Config{})
	channel := "chan:" + t.Name()
	ps := subscribe(t, rdb, channel)
	// Sites spread over the masters; each key stays in its site's slot.
	hosts := []string{testHost, "https://b.example.com", "https://c.example.com", "https://d.example.com"}
	var published []history.Entry
	for i, host := range hosts {
		e := entry("id-"+host, firstTS)
		e.Host = host
		idem := history.Idempotency{Key: "k", Fingerprint: "fp"}
		if r, err := h.AppendPublishOnce(ctx, channel, e, idem); err != nil || !r.Added {
			t.Fatalf("%s: AppendPublishOnce = %+v, %v; want stored", host, r, err)
		}
		published = append(published, e)
		retry := entry("retry", secondTS)
		retry.Host = host
		r, err := h.AppendPublishOnce(ctx, channel, retry, idem)
		if want := (history.Result{Replayed: true, ID: e.ID, Timestamp: firstTS}); err != nil || r != want {
			t.Fatalf("%s: retry = %+v, %v; want %+v", host, r, err, want)
		}
		master := c.MasterFor(h.ListKey(host))
		keys, err := redistest.Call(master.Addr(), "KEYS", "{"+h.ListKey(host)+"}:idem:*")
		if err != nil {
			t.Fatalf("KEYS on %s: %v", master.Addr(), err)
		}
		if k, ok := keys.([]any); !ok || len(k) != 1 {
			t.Errorf("site %d: idempotency keys on the list's master = %v, want one", i, keys)
		}
	}
	wantPublished(t, rdb, ps, channel, published...)
}
