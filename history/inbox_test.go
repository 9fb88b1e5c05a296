package history_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/message"
)

// inboxHistory returns a Store with the inbox on, publishing its
// deliveries on a channel unique to the test (its name is returned).
func inboxHistory(t testing.TB, rdb redis.UniversalClient, cfg history.Config) (*history.Store, string) {
	t.Helper()
	if cfg.DeliveryChannel == "" {
		cfg.DeliveryChannel = "delivery:" + strings.ReplaceAll(t.Name(), " ", "_")
	}
	return newHistory(t, rdb, cfg), cfg.DeliveryChannel
}

// note returns the entry of a message with id, from sender, of category,
// for principals.
func note(id, sender, category string, principals ...string) history.Entry {
	m := newMessage(id)
	m.ID, m.Category = id, category
	m.Source = &message.Source{ID: sender, Title: sender}
	m.Target = &message.Target{Principals: principals}
	return history.EntryOf(m, m.StoredJSON())
}

// forEachInbox runs test in parallel on each backend, with a *history.Store
// whose inbox is on.
func forEachInbox(t *testing.T, test func(t *testing.T, ctx context.Context, h *history.Store)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			rdb, _ := b.New(t)
			h, _ := inboxHistory(t, rdb, history.Config{})
			test(t, context.Background(), h)
		})
	}
}

func storeAll(t testing.TB, h *history.Store, entries ...history.Entry) {
	t.Helper()
	if _, err := h.AppendBatch(context.Background(), entries); err != nil {
		t.Fatalf("AppendBatch: %v", err)
	}
}

func itemIDs(items []history.Item) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, it.Message.ID)
	}
	return out
}

var bob = history.Reader{Host: testHost, User: "users:bob", Principals: []string{"users:bob", "groups:editors", message.Authenticated}}

func TestInboxExactlyOnce(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			rdb, _ := b.New(t)
			ctx := context.Background()
			h1, channel := inboxHistory(t, rdb, history.Config{})
			h2, _ := inboxHistory(t, rdb, history.Config{})
			ps := subscribe(t, rdb, channel)
			entries := []history.Entry{
				note("id-1", "users:alice", "content.review", "users:bob"),
				note("id-2", "users:alice", "content.review", "groups:editors", "users:bob"),
				note("id-3", "users:carol", "site.news", message.Authenticated),
			}
			// Subscriber path on two gateways, then the publisher path.
			storeAll(t, h1, entries...)
			storeAll(t, h2, entries...)
			for _, e := range entries {
				r, err := h2.AppendPublishOnce(ctx, "", e, history.Idempotency{})
				if err != nil || r.Added {
					t.Fatalf("AppendPublishOnce(%s) = %+v, %v; want a duplicate", e.ID, r, err)
				}
			}
			r, err := h1.AppendPublishOnce(ctx, "", note("id-4", "users:alice", "content.review", "users:bob"), history.Idempotency{})
			if err != nil || !r.Added || r.Seq != 4 {
				t.Fatalf("AppendPublishOnce(id-4) = %+v, %v; want added with seq 4", r, err)
			}
			pfx := "{" + h1.ListKey(testHost) + "}:"
			for p, want := range map[string]int64{"users:bob": 3, "groups:editors": 1, message.Authenticated: 1} {
				if n, err := rdb.ZCard(ctx, pfx+"i:"+p).Result(); err != nil || n != want {
					t.Errorf("index %s holds %d, %v; want %d", p, n, err, want)
				}
			}
			if n, _ := rdb.LLen(ctx, h1.ListKey(testHost)).Result(); n != 4 {
				t.Errorf("PyAMS list holds %d, want 4", n)
			}
			// Each delivery once, in seq order, then the marker.
			if err := rdb.Publish(ctx, channel, "marker").Err(); err != nil {
				t.Fatal(err)
			}
			for i := 1; i <= 5; i++ {
				got, err := ps.ReceiveMessage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if i == 5 {
					if got.Payload != "marker" {
						t.Fatalf("extra delivery %.60s", got.Payload)
					}
					break
				}
				d, err := history.ParseDelivery(got.Payload)
				if err != nil || d.Kind != history.DeliveryMessage || d.Seq != int64(i) {
					t.Fatalf("delivery %d = %+v, %v", i, d, err)
				}
				m, err := message.Decode(d.Stored, 0)
				if err != nil || m.ID != fmt.Sprintf("id-%d", i) || !m.HasTarget() {
					t.Fatalf("delivery %d holds %+v, %v", i, m, err)
				}
			}
			// SiteSince: the site's order.
			ds, err := h2.SiteSince(ctx, testHost, 1, 10)
			if err != nil || len(ds) != 3 || ds[0].Seq != 2 || ds[2].Seq != 4 {
				t.Fatalf("SiteSince(1) = %+v, %v; want seqs 2..4", ds, err)
			}
		})
	}
}

func TestInboxPage(t *testing.T) {
	t.Parallel()
	forEachInbox(t, func(t *testing.T, ctx context.Context, h *history.Store) {
		var entries []history.Entry
		for i := 1; i <= 12; i++ {
			var e history.Entry
			switch i % 4 {
			case 0:
				e = note(fmt.Sprintf("id-%02d", i), "users:alice", "site.news", message.Authenticated)
			case 1:
				e = note(fmt.Sprintf("id-%02d", i), "users:alice", "content.review", "users:bob", "groups:editors")
			case 2:
				e = note(fmt.Sprintf("id-%02d", i), "users:bob", "content.review", "groups:editors") // bob's own
			case 3:
				e = note(fmt.Sprintf("id-%02d", i), "users:alice", "content.review", "users:carol") // not for bob
			}
			entries = append(entries, e)
		}
		storeAll(t, h, entries...)
		visible := []string{"id-12", "id-09", "id-08", "id-05", "id-04", "id-01"}

		p, err := h.Page(ctx, bob, history.PageOptions{Counts: true})
		if err != nil || !slices.Equal(itemIDs(p.Items), visible) || p.Next != "" || p.Gap {
			t.Fatalf("Page = %v next %q gap %v, %v; want %v", itemIDs(p.Items), p.Next, p.Gap, err, visible)
		}
		if p.Counts != (history.Counts{Unread: 6, Unseen: 6}) {
			t.Errorf("Counts = %+v, want 6 unread, 6 unseen", p.Counts)
		}
		if p.Items[0].Message.Target == nil || p.Items[0].Seq != 12 || p.Items[0].Read {
			t.Errorf("first item %+v", p.Items[0])
		}
		// Back, by pages of 4.
		p, err = h.Page(ctx, bob, history.PageOptions{Limit: 4})
		if err != nil || !slices.Equal(itemIDs(p.Items), visible[:4]) || p.Next != "id-05" {
			t.Fatalf("Page(4) = %v next %q, %v", itemIDs(p.Items), p.Next, err)
		}
		p, err = h.Page(ctx, bob, history.PageOptions{Limit: 4, Before: p.Next})
		if err != nil || !slices.Equal(itemIDs(p.Items), visible[4:]) || p.Next != "" {
			t.Fatalf("Page(before id-05) = %v next %q, %v", itemIDs(p.Items), p.Next, err)
		}
		// Forward, oldest first.
		p, err = h.Page(ctx, bob, history.PageOptions{Limit: 2, After: "id-01"})
		if err != nil || !slices.Equal(itemIDs(p.Items), []string{"id-04", "id-05"}) || p.Next != "id-05" || p.Gap {
			t.Fatalf("Page(after id-01) = %v next %q gap %v, %v", itemIDs(p.Items), p.Next, p.Gap, err)
		}
		items, gap, err := h.After(ctx, bob, "id-05", 0)
		if err != nil || gap || !slices.Equal(itemIDs(items), []string{"id-08", "id-09", "id-12"}) {
			t.Fatalf("After(id-05) = %v gap %v, %v", itemIDs(items), gap, err)
		}
		// Filters.
		p, err = h.Page(ctx, bob, history.PageOptions{Category: "site.news"})
		if err != nil || !slices.Equal(itemIDs(p.Items), []string{"id-12", "id-08", "id-04"}) {
			t.Fatalf("Page(category) = %v, %v", itemIDs(p.Items), err)
		}
		if _, err := h.MarkRead(ctx, bob, []string{"id-12", "id-05"}); err != nil {
			t.Fatal(err)
		}
		p, err = h.Page(ctx, bob, history.PageOptions{UnreadOnly: true})
		if err != nil || !slices.Equal(itemIDs(p.Items), []string{"id-09", "id-08", "id-04", "id-01"}) {
			t.Fatalf("Page(unread) = %v, %v", itemIDs(p.Items), err)
		}
		// An id bob cannot see (carol's) is an unknown id, both ways.
		for _, id := range []string{"id-03", "no-such-id"} {
			if _, err := h.Page(ctx, bob, history.PageOptions{Before: id}); !errors.Is(err, history.ErrNotFound) {
				t.Errorf("Page(before %s) err = %v, want ErrNotFound", id, err)
			}
			p, err := h.Page(ctx, bob, history.PageOptions{After: id, Limit: 2})
			if err != nil || !p.Gap || !slices.Equal(itemIDs(p.Items), []string{"id-09", "id-12"}) {
				t.Errorf("Page(after %s) = %v gap %v, %v; want the newest two with a gap", id, itemIDs(p.Items), p.Gap, err)
			}
		}
		// The sender never sees its own message; carol sees hers.
		carol := history.Reader{Host: testHost, User: "users:carol", Principals: []string{"users:carol"}}
		p, err = h.Page(ctx, carol, history.PageOptions{})
		if err != nil || !slices.Equal(itemIDs(p.Items), []string{"id-11", "id-07", "id-03"}) {
			t.Fatalf("carol's Page = %v, %v", itemIDs(p.Items), err)
		}
		alice := history.Reader{Host: testHost, User: "users:alice", Principals: []string{"users:alice", message.Authenticated}}
		p, err = h.Page(ctx, alice, history.PageOptions{})
		if err != nil || len(p.Items) != 0 {
			t.Fatalf("alice's Page = %v, %v; want none of her own", itemIDs(p.Items), err)
		}
	})
}
