package history_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/internal/redistest"
	"github.com/notifyd/notifyd/message"
)

func wantCounts(t testing.TB, what string, got history.Counts, err error, unread, unseen int) {
	t.Helper()
	if err != nil || got != (history.Counts{Unread: unread, Unseen: unseen}) {
		t.Fatalf("%s = %+v, %v; want %d unread, %d unseen", what, got, err, unread, unseen)
	}
}

func TestInboxCounts(t *testing.T) {
	t.Parallel()
	forEachInbox(t, func(t *testing.T, ctx context.Context, h *history.Store) {
		storeAll(t, h,
			note("id-1", "users:alice", "content.review", "users:bob"),
			note("id-2", "users:alice", "site.news", message.Authenticated),
			note("id-3", "users:bob", "content.review", message.Authenticated), // bob's own
			note("id-4", "users:alice", "content.review", "groups:editors"),
			note("id-5", "users:alice", "site.alerts", "users:bob"),
		)
		c, err := h.Count(ctx, bob)
		wantCounts(t, "Count", c, err, 4, 4)
		c, err = h.MarkSeen(ctx, bob, "id-2")
		wantCounts(t, "MarkSeen(id-2)", c, err, 4, 2)
		c, err = h.MarkSeen(ctx, bob, "id-1") // never back
		wantCounts(t, "MarkSeen(id-1)", c, err, 4, 2)
		c, err = h.MarkRead(ctx, bob, []string{"id-4", "id-1", "unknown"})
		wantCounts(t, "MarkRead", c, err, 2, 1)
		c, err = h.MarkUnread(ctx, bob, []string{"id-1"})
		wantCounts(t, "MarkUnread", c, err, 3, 1)
		c, err = h.MarkAllRead(ctx, bob)
		wantCounts(t, "MarkAllRead", c, err, 0, 0)
		c, err = h.MarkUnread(ctx, bob, []string{"id-2", "id-5"})
		wantCounts(t, "MarkUnread below the cursor", c, err, 2, 1)
		p, err := h.Page(ctx, bob, history.PageOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var unread []string
		for _, it := range p.Items {
			if !it.Read {
				unread = append(unread, it.Message.ID)
			}
		}
		if !slices.Equal(unread, []string{"id-5", "id-2"}) {
			t.Errorf("unread items = %v, want id-5 id-2", unread)
		}
		// Muted categories are listed, flagged and not counted.
		if err := h.SetPrefs(ctx, testHost, bob.User, history.Prefs{Muted: []string{"site.*"}}); err != nil {
			t.Fatal(err)
		}
		c, err = h.Count(ctx, bob)
		wantCounts(t, "Count muted", c, err, 0, 0)
		p, err = h.Page(ctx, bob, history.PageOptions{Limit: 1, Counts: true})
		if err != nil || len(p.Items) != 1 || !p.Items[0].Muted || p.Counts != (history.Counts{}) {
			t.Fatalf("Page muted = %+v, %v", p, err)
		}
		if err := h.SetPrefs(ctx, testHost, bob.User, history.Prefs{Muted: []string{"site.news"}}); err != nil {
			t.Fatal(err)
		}
		c, err = h.Count(ctx, bob)
		wantCounts(t, "Count with site.news muted", c, err, 1, 1)
		if pf, err := h.Prefs(ctx, testHost, bob.User); err != nil || !slices.Equal(pf.Muted, []string{"site.news"}) {
			t.Fatalf("Prefs = %+v, %v", pf, err)
		}
		// A retracted message leaves every count.
		if _, err := h.Retract(ctx, testHost, "id-5"); err != nil {
			t.Fatal(err)
		}
		c, err = h.Count(ctx, bob)
		wantCounts(t, "Count after retract", c, err, 0, 0)
		// A new message is unread and unseen.
		storeAll(t, h, note("id-6", "users:alice", "content.review", "users:bob"))
		c, err = h.Count(ctx, bob)
		wantCounts(t, "Count after a new message", c, err, 1, 1)
		// Device cursors move forward only, ignore invisible ids.
		if err := h.Ack(ctx, bob, "phone", "id-4"); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"id-1", "no-such-id"} {
			if err := h.Ack(ctx, bob, "phone", id); err != nil {
				t.Fatal(err)
			}
		}
		if id, err := h.DeviceCursor(ctx, bob, "phone"); err != nil || id != "id-4" {
			t.Fatalf("DeviceCursor = %q, %v; want id-4", id, err)
		}
		if id, err := h.DeviceCursor(ctx, bob, "tablet"); err != nil || id != "" {
			t.Fatalf("DeviceCursor(tablet) = %q, %v; want none", id, err)
		}
	})
}

func TestInboxCountCap(t *testing.T) {
	t.Parallel()
	rdb, _ := realRedis(t)
	h, _ := inboxHistory(t, rdb, history.Config{CountCap: 3})
	for i := range 5 {
		storeAll(t, h, note(fmt.Sprintf("id-%d", i), "users:alice", "c", "users:bob"))
	}
	c, err := h.Count(context.Background(), bob)
	wantCounts(t, "Count", c, err, 3, 3)
}

// TestPageCounts: a page counts only when asked, and has the same entries
// either way.
func TestPageCounts(t *testing.T) {
	t.Parallel()
	forEachInbox(t, func(t *testing.T, ctx context.Context, h *history.Store) {
		storeAll(t, h,
			note("id-1", "users:alice", "c", "users:bob"),
			note("id-2", "users:alice", "c", "users:bob"),
		)
		with, err := h.Page(ctx, bob, history.PageOptions{Counts: true})
		if err != nil || with.Counts != (history.Counts{Unread: 2, Unseen: 2}) {
			t.Fatalf("Page with counts: %+v, %v", with.Counts, err)
		}
		without, err := h.Page(ctx, bob, history.PageOptions{})
		if err != nil || without.Counts != (history.Counts{}) {
			t.Fatalf("Page without counts: %+v, %v", without.Counts, err)
		}
		if !slices.Equal(itemIDs(with.Items), itemIDs(without.Items)) || len(with.Items) != 2 {
			t.Fatalf("entries differ: %v and %v", itemIDs(with.Items), itemIDs(without.Items))
		}
	})
}

// TestRetractUnless: a refused category is left as it is, in the same
// script; other messages are retracted.
func TestRetractUnless(t *testing.T) {
	t.Parallel()
	forEachInbox(t, func(t *testing.T, ctx context.Context, h *history.Store) {
		storeAll(t, h,
			note("id-1", "users:alice", "space", "users:bob"),
			note("id-2", "users:alice", "content.review", "users:bob"),
		)
		if _, err := h.RetractUnless(ctx, testHost, "id-1", "space"); !errors.Is(err, history.ErrCategoryRefused) {
			t.Fatalf("RetractUnless(space message, space) = %v, want ErrCategoryRefused", err)
		}
		if m, err := h.RetractUnless(ctx, testHost, "id-2", "space"); err != nil || m.ID != "id-2" {
			t.Fatalf("RetractUnless(other) = %+v, %v", m, err)
		}
		p, err := h.Page(ctx, bob, history.PageOptions{})
		if err != nil || !slices.Equal(itemIDs(p.Items), []string{"id-1"}) {
			t.Fatalf("Page = %v, %v; want the refused one only", itemIDs(p.Items), err)
		}
	})
}

func TestInboxUpdateRetract(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			rdb, _ := b.New(t)
			ctx := context.Background()
			h, channel := inboxHistory(t, rdb, history.Config{})
			storeAll(t, h,
				note("id-1", "users:alice", "content.review", "users:bob"),
				note("id-2", "users:alice", "content.review", "users:bob"),
			)
			ps := subscribe(t, rdb, channel)
			m, err := h.Update(ctx, testHost, "id-1", func(m *message.Message) error {
				m.Title, m.Status = "changed", "danger"
				m.ID, m.Target = "hijack", &message.Target{Principals: []string{"users:eve"}} // kept as they were
				return nil
			})
			if err != nil || m.Title != "changed" || m.ID != "id-1" || m.Principals()[0] != "users:bob" {
				t.Fatalf("Update = %+v, %v", m, err)
			}
			if _, err := h.Retract(ctx, testHost, "id-2"); err != nil {
				t.Fatal(err)
			}
			for _, want := range []struct {
				kind history.DeliveryKind
				seq  int64
				id   string
			}{{history.DeliveryUpdate, 1, "id-1"}, {history.DeliveryRetract, 2, "id-2"}} {
				got, err := ps.ReceiveMessage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				d, err := history.ParseDelivery(got.Payload)
				m, _ := message.Decode(d.Stored, 0)
				if err != nil || d.Kind != want.kind || d.Seq != want.seq || m == nil || m.ID != want.id {
					t.Fatalf("delivery %.80s, want %c %d %s", got.Payload, want.kind, want.seq, want.id)
				}
			}
			p, err := h.Page(ctx, bob, history.PageOptions{})
			if err != nil || !slices.Equal(itemIDs(p.Items), []string{"id-1"}) || p.Items[0].Message.Title != "changed" {
				t.Fatalf("Page = %v, %v", itemIDs(p.Items), err)
			}
			items, gap, err := h.After(ctx, bob, "id-1", 10)
			if err != nil || gap || len(items) != 0 {
				t.Fatalf("After(id-1) = %v gap %v, %v", itemIDs(items), gap, err)
			}
			// A cursor on a retracted message still works.
			items, gap, err = h.After(ctx, bob, "id-2", 10)
			if err != nil || gap || len(items) != 0 {
				t.Fatalf("After(id-2) = %v gap %v, %v", itemIDs(items), gap, err)
			}
			for _, id := range []string{"id-2", "unknown"} {
				if _, err := h.Retract(ctx, testHost, id); !errors.Is(err, history.ErrNotFound) {
					t.Errorf("Retract(%s) err = %v, want ErrNotFound", id, err)
				}
				if _, err := h.Update(ctx, testHost, id, func(*message.Message) error { return nil }); !errors.Is(err, history.ErrNotFound) {
					t.Errorf("Update(%s) err = %v, want ErrNotFound", id, err)
				}
			}
			if ds, err := h.SiteSince(ctx, testHost, 0, 10); err != nil || len(ds) != 1 || ds[0].Seq != 1 {
				t.Fatalf("SiteSince = %+v, %v; want id-1 only", ds, err)
			}
			// The retracted id is never stored again; PyAMS's list is unchanged.
			if added, err := h.AppendBatch(ctx, []history.Entry{note("id-2", "users:alice", "c", "users:bob")}); err != nil || added[0] {
				t.Fatalf("re-append = %v, %v", added, err)
			}
			if n, _ := rdb.LLen(ctx, h.ListKey(testHost)).Result(); n != 2 {
				t.Errorf("PyAMS list holds %d, want 2", n)
			}
		})
	}
}

func TestInboxRetentionByCount(t *testing.T) {
	t.Parallel()
	rdb, _ := realRedis(t)
	ctx := context.Background()
	h, _ := inboxHistory(t, rdb, history.Config{InboxLength: 3})
	for i := 1; i <= 6; i++ {
		storeAll(t, h, note(fmt.Sprintf("id-%d", i), "users:alice", "c", "users:bob"))
	}
	storeAll(t, h, note("id-7", "users:alice", "c", "groups:editors"))
	p, err := h.Page(ctx, bob, history.PageOptions{})
	if err != nil || !slices.Equal(itemIDs(p.Items), []string{"id-7", "id-6", "id-5", "id-4"}) {
		t.Fatalf("Page = %v, %v", itemIDs(p.Items), err)
	}
	pfx := "{" + h.ListKey(testHost) + "}:"
	// Bodies that left every index are gone, and the site log with them.
	if n, _ := rdb.Exists(ctx, pfx+"m:id-1", pfx+"m:id-2", pfx+"m:id-3").Result(); n != 0 {
		t.Errorf("%d trimmed bodies kept", n)
	}
	if n, _ := rdb.ZCard(ctx, pfx+"l").Result(); n != 4 {
		t.Errorf("site log holds %d, want 4", n)
	}
	// An after cursor older than what bob's index keeps is a gap.
	items, gap, err := h.After(ctx, bob, "id-1", 10)
	if err != nil || !gap || len(items) != 4 {
		t.Fatalf("After(id-1) = %v gap %v, %v", itemIDs(items), gap, err)
	}
}

func TestInboxRetentionByAge(t *testing.T) {
	t.Parallel()
	rdb, _ := realRedis(t)
	ctx := context.Background()
	h, _ := inboxHistory(t, rdb, history.Config{InboxTTL: 50 * time.Millisecond})
	storeAll(t, h, note("old", "users:alice", "c", "users:bob", "groups:editors"))
	pfx := "{" + h.ListKey(testHost) + "}:"
	// Each store prunes what is older than the TTL: store until "old" is gone.
	i := 0
	poll.Until(t, "the old message pruned", func() bool {
		i++
		storeAll(t, h, note(fmt.Sprintf("new-%d", i), "users:alice", "c", "users:carol"))
		n, err := rdb.Exists(ctx, pfx+"m:old").Result()
		return err == nil && n == 0
	})
	for _, p := range []string{"users:bob", "groups:editors"} {
		if n, _ := rdb.ZScore(ctx, pfx+"i:"+p, "old").Result(); n != 0 {
			t.Errorf("old still in %s", p)
		}
	}
	if c, err := h.Count(ctx, bob); err != nil || c.Unread != 0 {
		t.Errorf("Count = %+v, %v; want nothing", c, err)
	}
}

func TestInboxCluster(t *testing.T) {
	t.Parallel()
	c := redistest.StartCluster(t, 3)
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	t.Cleanup(func() { _ = rdb.Close() })
	ctx := context.Background()
	h, channel := inboxHistory(t, rdb, history.Config{})
	ps := subscribe(t, rdb, channel)
	hosts := []string{testHost, "https://other.example.org", "https://third.example.net"}
	for _, host := range hosts {
		var entries []history.Entry
		for i := range 3 {
			e := note(fmt.Sprintf("id-%d", i), "users:alice", "c", "users:bob", "groups:editors", message.Authenticated)
			m, _ := message.Decode(e.Stored, 0)
			m.Host = host
			entries = append(entries, history.EntryOf(m, m.StoredJSON()))
		}
		storeAll(t, h, entries...)
		r := bob
		r.Host = host
		if _, err := h.MarkRead(ctx, r, []string{"id-0"}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.MarkSeen(ctx, r, "id-1"); err != nil {
			t.Fatal(err)
		}
		if err := h.SetPrefs(ctx, host, r.User, history.Prefs{Muted: []string{"x.*"}}); err != nil {
			t.Fatal(err)
		}
		if err := h.Ack(ctx, r, "phone", "id-2"); err != nil {
			t.Fatal(err)
		}
		p, err := h.Page(ctx, r, history.PageOptions{Counts: true})
		if err != nil || len(p.Items) != 3 || p.Counts != (history.Counts{Unread: 2, Unseen: 1}) {
			t.Fatalf("%s: Page = %v %+v, %v", host, itemIDs(p.Items), p.Counts, err)
		}
		if _, err := h.Update(ctx, host, "id-2", func(m *message.Message) error { m.Title = "new"; return nil }); err != nil {
			t.Fatal(err)
		}
		if _, err := h.Retract(ctx, host, "id-1"); err != nil {
			t.Fatal(err)
		}
		if ds, err := h.SiteSince(ctx, host, 0, 10); err != nil || len(ds) != 2 {
			t.Fatalf("SiteSince = %v, %v", ds, err)
		}
		// Every key of the site is in the list's slot.
		list := h.ListKey(host)
		slot := redistest.KeySlot(list)
		master := c.MasterFor(list)
		v, err := master.Call("KEYS", "*")
		if err != nil {
			t.Fatal(err)
		}
		mine := 0
		for _, k := range v.([]any) {
			if !strings.Contains(k.(string), list) {
				continue
			}
			mine++
			if ks := redistest.KeySlot(k.(string)); ks != slot {
				t.Errorf("key %s in slot %d, want %d", k, ks, slot)
			}
		}
		// list, seq, log, time, 3 bodies, 3 indexes, user state, read set, prefs (the seen keys too)
		if mine < 13 {
			t.Errorf("%d keys of %s on its master, want at least 13", mine, host)
		}
	}
	// 3 hosts × 3 messages, plus 3 updates and 3 retracts: 15 deliveries.
	for n := range 15 {
		if _, err := ps.ReceiveMessage(ctx); err != nil {
			t.Fatalf("delivery %d: %v", n, err)
		}
	}
}

// TestCountPrefs: the one-round-trip read a websocket makes when it opens
// answers what Count and Prefs answer, whether the script is cached or not
// (NOSCRIPT: it falls back and loads it).
func TestCountPrefs(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			rdb, _ := b.New(t)
			ctx := context.Background()
			h, _ := inboxHistory(t, rdb, history.Config{})
			storeAll(t, h,
				note("id-1", "users:alice", "content.review", "users:bob"),
				note("id-2", "users:alice", "site.news", message.Authenticated),
				note("id-3", "users:alice", "site.alerts", "users:bob"),
			)
			if err := h.SetPrefs(ctx, testHost, "users:bob", history.Prefs{Muted: []string{"site.*"}}); err != nil {
				t.Fatal(err)
			}
			for _, flush := range []bool{true, false} {
				if flush {
					if err := rdb.ScriptFlush(ctx).Err(); err != nil {
						t.Fatal(err)
					}
				}
				o := h.CountPrefs(ctx, bob)
				wantCounts(t, "CountPrefs", o.Counts, o.CountsErr, 1, 1)
				if o.PrefsErr != nil || !slices.Equal(o.Prefs.Muted, []string{"site.*"}) {
					t.Fatalf("flush %v: prefs %+v, %v", flush, o.Prefs, o.PrefsErr)
				}
			}
			o := h.CountPrefs(ctx, history.Reader{Host: testHost, User: "users:nobody", Principals: []string{"users:nobody"}})
			wantCounts(t, "CountPrefs of a new user", o.Counts, o.CountsErr, 0, 0)
			if o.PrefsErr != nil || o.Prefs.Muted == nil || len(o.Prefs.Muted) != 0 {
				t.Fatalf("new user's prefs %+v, %v", o.Prefs, o.PrefsErr)
			}
		})
	}
}
