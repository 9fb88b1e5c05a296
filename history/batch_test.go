package history_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/message"
)

// TestAppendBatchRuns stores, with the inbox on, more entries of two sites
// than one run of the batch script takes, with a duplicate inside the
// batch: each entry is stored once, each site's deliveries come in the
// batch's order with consecutive seqs, and a second batch is all
// duplicates.
func TestAppendBatchRuns(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			rdb, _ := b.New(t)
			ctx := context.Background()
			h, channel := inboxHistory(t, rdb, history.Config{})
			ps := subscribe(t, rdb, channel)
			const other = "https://other.example.com"
			var entries []history.Entry
			for i := range 300 {
				m := newMessage("id-" + strconv.Itoa(i))
				m.ID, m.Target = m.Title, &message.Target{Principals: []string{"users:bob", "users:carol"}}
				if i%3 == 0 {
					m.Host = other
				}
				entries = append(entries, history.EntryOf(m, m.StoredJSON()))
			}
			entries = append(entries, entries[5]) // a copy in the same batch
			added, err := h.AppendBatch(ctx, entries)
			if err != nil {
				t.Fatalf("AppendBatch: %v", err)
			}
			for i, a := range added {
				if a != (i < 300) {
					t.Fatalf("added[%d] = %v", i, a)
				}
			}
			seqs := map[string]int64{}
			next := map[string]int{} // index in entries of the site's next delivery
			for range 300 {
				msg, err := ps.ReceiveMessage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				d, err := history.ParseDelivery(msg.Payload)
				if err != nil {
					t.Fatalf("ParseDelivery(%q): %v", msg.Payload, err)
				}
				host := testHost
				if strings.Contains(string(d.Stored), "other.example.com") {
					host = other
				}
				i := next[host]
				for entries[i].Host != host {
					i++
				}
				next[host] = i + 1
				if want := `"id":"` + entries[i].ID + `"`; !strings.Contains(string(d.Stored), want) || d.Seq != seqs[host]+1 {
					t.Fatalf("delivery %d %s of %s, want %s with seq %d", d.Seq, d.Stored, host, want, seqs[host]+1)
				}
				seqs[host] = d.Seq
			}
			added, err = h.AppendBatch(ctx, entries)
			if err != nil {
				t.Fatalf("AppendBatch again: %v", err)
			}
			for i, a := range added {
				if a {
					t.Fatalf("added[%d] again", i)
				}
			}
			if n, _ := rdb.ZCard(ctx, "{"+h.ListKey(testHost)+"}:i:users:bob").Result(); n != 200 {
				t.Errorf("bob's index holds %d, want 200", n)
			}
		})
	}
}

// spoiled is a Store with the inbox on over a real redis-server,
// subscribed to its delivery channel, for the store scripts' failure
// paths: spoil overwrites some of its keys with a string.
type spoiled struct {
	rdb     *redis.Client
	h       *history.Store
	channel string
	ps      *redis.PubSub
	pfx     string // the site's key prefix, "{<list key>}:"
}

func newSpoiled(t *testing.T, cfg history.Config) *spoiled {
	t.Helper()
	rdb, _ := realRedis(t)
	h, channel := inboxHistory(t, rdb, cfg)
	return &spoiled{rdb: rdb, h: h, channel: channel, ps: subscribe(t, rdb, channel), pfx: "{" + h.ListKey(testHost) + "}:"}
}

// spoil sets each of keys (under pfx) to a string.
func (s *spoiled) spoil(t *testing.T, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if err := s.rdb.Set(context.Background(), s.pfx+k, "not what the scripts expect", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// store stores entries in one AppendBatch and checks that entries[i] was
// stored, without error, exactly when stored[i], and failed otherwise.
func (s *spoiled) store(t *testing.T, entries []history.Entry, stored ...bool) {
	t.Helper()
	added, err := s.h.AppendBatch(context.Background(), entries)
	if !slices.Equal(added, stored) {
		t.Fatalf("AppendBatch = %v, %v; want %v stored", added, err, stored)
	}
	for i, want := range stored {
		if failed := history.EntryError(err, i) != nil; failed == want {
			t.Errorf("entry %d failed: %v, want %v (err %v)", i, failed, !want, err)
		}
	}
}

// wantGone checks that none of keys (under pfx) exists.
func (s *spoiled) wantGone(t *testing.T, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if n, _ := s.rdb.Exists(context.Background(), s.pfx+k).Result(); n != 0 {
			t.Errorf("%s is left", s.pfx+k)
		}
	}
}

// listLength is the length of PyAMS's list.
func (s *spoiled) listLength(t *testing.T) int64 {
	t.Helper()
	n, err := s.rdb.LLen(context.Background(), s.h.ListKey(testHost)).Result()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAppendBatchRunFails: with the inbox on, an entry of a run of the
// batch script whose index was overwritten with a string gets that error
// (so does a copy of it later in the run) and leaves nothing behind: no
// publish, no body, no entry in the indexes that took it, none in PyAMS's
// list; the other entries of the run are stored and published, in order,
// and the indexes they touched expire.
func TestAppendBatchRunFails(t *testing.T) {
	t.Parallel()
	s := newSpoiled(t, history.Config{})
	s.spoil(t, "i:users:bad")
	entries := []history.Entry{
		note("id-1", "users:alice", "c", "users:bob"),
		note("id-2", "users:alice", "c", "users:abe", "users:bad", "users:carol"), // abe before bad
		note("id-3", "users:alice", "c", "users:bob"),
	}
	entries = append(entries, entries[1]) // a copy: it fails with its first
	s.store(t, entries, true, false, true, false)
	wantDelivered(t, s.rdb, s.ps, s.channel, entries[0], entries[2])
	ctx := context.Background()
	if ids, _ := s.rdb.ZRange(ctx, s.pfx+"i:users:bob", 0, -1).Result(); !slices.Equal(ids, []string{"id-1", "id-3"}) {
		t.Errorf("bob's index holds %v, want id-1 and id-3", ids)
	}
	s.wantGone(t, "m:id-2", "i:users:abe", "i:users:carol")
	if ttl, _ := s.rdb.PTTL(ctx, s.pfx+"i:users:bob").Result(); ttl <= 0 {
		t.Errorf("bob's index has no expiry (%v)", ttl)
	}
	if n := s.listLength(t); n != 2 {
		t.Errorf("PyAMS's list holds %d entries, want 2", n)
	}
}

// TestAppendBatchLogRefused: a run whose site log was overwritten with a
// string stores nothing and leaves nothing: every entry gets the error,
// PyAMS's list and the indexes are as before.
func TestAppendBatchLogRefused(t *testing.T) {
	t.Parallel()
	s := newSpoiled(t, history.Config{})
	s.spoil(t, "l")
	s.store(t, []history.Entry{note("id-1", "users:alice", "c", "users:bob"), note("id-2", "users:alice", "c", "users:carol")}, false, false)
	wantDelivered(t, s.rdb, s.ps, s.channel) // nothing before the marker
	s.wantGone(t, "i:users:bob", "i:users:carol", "o:users:alice", "t", "m:id-1")
	if n := s.listLength(t); n != 0 {
		t.Errorf("PyAMS's list holds %d entries", n)
	}
}

// TestAppendBatchRunAborted: a run aborted before any write (the site's
// seq overwritten with a string) is stored again entry by entry, which
// fails the same way: every entry gets the error, nothing is published or
// listed.
func TestAppendBatchRunAborted(t *testing.T) {
	t.Parallel()
	s := newSpoiled(t, history.Config{})
	s.spoil(t, "seq")
	s.store(t, []history.Entry{note("id-1", "users:alice", "c", "users:bob"), note("id-2", "users:alice", "c", "users:carol")}, false, false)
	wantDelivered(t, s.rdb, s.ps, s.channel) // nothing before the marker
	if n := s.listLength(t); n != 0 {
		t.Errorf("PyAMS's list holds %d entries", n)
	}
}

// TestAppendBatchTrimSurvivesWrongType: an old body and an old index of
// another type met by the trims do not abort a run whose messages are
// published: both are stored and published once, and the old body is
// deleted with its id.
func TestAppendBatchTrimSurvivesWrongType(t *testing.T) {
	t.Parallel()
	s := newSpoiled(t, history.Config{InboxLength: 1})
	old := []history.Entry{note("id-0", "users:alice", "c", "users:bob"), note("id-00", "users:alice", "c", "users:carol", "users:zed")}
	storeAll(t, s.h, old...)
	s.spoil(t, "m:id-0", "i:users:zed")
	entries := []history.Entry{
		note("id-1", "users:alice", "c", "users:bob"),
		note("id-2", "users:alice", "c", "users:carol"),
	}
	s.store(t, entries, true, true)
	wantDelivered(t, s.rdb, s.ps, s.channel, append(old, entries...)...)
	s.wantGone(t, "m:id-0")
}

// TestInboxListTrimmed: with the inbox on, PyAMS's list keeps its Length,
// whether one run of the batch script pushes past it or single stores
// reach it one at a time.
func TestInboxListTrimmed(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			rdb, _ := b.New(t)
			ctx := context.Background()
			h, _ := inboxHistory(t, rdb, history.Config{Length: 3})
			length := func() int64 {
				n, err := rdb.LLen(ctx, h.ListKey(testHost)).Result()
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			storeAll(t, h, note("id-1", "users:alice", "c", "users:bob"), note("id-2", "users:alice", "c", "users:bob"))
			if n := length(); n != 2 {
				t.Fatalf("list of %d after 2, want 2", n)
			}
			if _, err := h.AppendPublishOnce(ctx, "", note("id-3", "users:alice", "c", "users:bob"), history.Idempotency{}); err != nil {
				t.Fatal(err)
			}
			if _, err := h.AppendPublishOnce(ctx, "", note("id-4", "users:alice", "c", "users:bob"), history.Idempotency{}); err != nil {
				t.Fatal(err)
			}
			if n := length(); n != 3 {
				t.Fatalf("list of %d after 4 single stores, want 3", n)
			}
			storeAll(t, h, note("id-5", "users:alice", "c", "users:bob"), note("id-6", "users:alice", "c", "users:bob"),
				note("id-7", "users:alice", "c", "users:bob"), note("id-8", "users:alice", "c", "users:bob"))
			if n := length(); n != 3 {
				t.Fatalf("list of %d after a run of 4, want 3", n)
			}
		})
	}
}
