package history_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/redistest"
)

// With the inbox on, the body decides "already stored": a store writes no
// seen key, and a body removed within the dedup window (here trimmed out
// of its only index) leaves one, in the site's slot, for the rest of the
// window, so a retry is still a duplicate, on both store paths.
func TestInboxBodyDecides(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			rdb, _ := b.New(t)
			checkBodyDecides(t, rdb, nil)
		})
	}
	t.Run("cluster", func(t *testing.T) {
		t.Parallel()
		c := redistest.StartCluster(t, 3)
		rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
		t.Cleanup(func() { _ = rdb.Close() })
		checkBodyDecides(t, rdb, c)
	})
}

func checkBodyDecides(t *testing.T, rdb redis.UniversalClient, c *redistest.Cluster) {
	t.Helper()
	ctx := context.Background()
	window := time.Hour
	h, _ := inboxHistory(t, rdb, history.Config{InboxLength: 1, DedupWindow: window})
	list := h.ListKey(testHost)
	pfx := "{" + list + "}:"
	exists := func(key string) bool {
		t.Helper()
		n, err := rdb.Exists(ctx, key).Result()
		if err != nil {
			t.Fatalf("EXISTS %s: %v", key, err)
		}
		if c != nil { // the key is on the list's master
			v, err := c.MasterFor(list).Call("EXISTS", key)
			if err != nil || v != n {
				t.Fatalf("EXISTS %s on the list's master = %v, %v; want %d", key, v, err, n)
			}
		}
		return n == 1
	}
	bobs := func(id string) history.Entry { return note(id, "users:alice", "c", "users:bob") }
	storeAll(t, h, bobs("id-1"))
	if r, err := h.AppendPublishOnce(ctx, "", bobs("id-2"), history.Idempotency{}); err != nil || !r.Added {
		t.Fatalf("AppendPublishOnce(id-2) = %+v, %v; want stored", r, err)
	}
	storeAll(t, h, bobs("id-3")) // the batch script trims id-2
	for id, want := range map[string]bool{"id-1": true, "id-2": true, "id-3": false} {
		if got := exists(pfx + "seen:" + id); got != want {
			t.Errorf("seen key of %s exists = %v, want %v", id, got, want)
		}
		if got := exists(pfx + "m:" + id); got == want {
			t.Errorf("body of %s exists = %v, want %v", id, got, !want)
		}
	}
	if ttl, err := rdb.PTTL(ctx, pfx+"seen:id-1").Result(); err != nil || ttl <= 0 || ttl > window {
		t.Errorf("PTTL of id-1's seen key = %v, %v; want in (0, %v]", ttl, err, window)
	}
	for _, id := range []string{"id-1", "id-2", "id-3"} {
		added, err := h.AppendBatch(ctx, []history.Entry{bobs(id)})
		if err != nil || added[0] {
			t.Errorf("AppendBatch(%s) again = %v, %v; want a duplicate", id, added, err)
		}
		r, err := h.AppendPublishOnce(ctx, "", bobs(id), history.Idempotency{})
		if want := (history.Result{ID: id, Timestamp: bobs(id).Timestamp}); err != nil || r != want {
			t.Errorf("AppendPublishOnce(%s) again = %+v, %v; want %+v", id, r, err, want)
		}
	}
	if n, err := rdb.Get(ctx, pfx+"seq").Int(); err != nil || n != 3 {
		t.Errorf("seq = %d, %v; want 3", n, err)
	}
}
