package history_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

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

// TestAppendBatchRunFails: with the inbox on, an entry of a run of the
// batch script whose index was overwritten with a string gets that error
// (so does a copy of it later in the run) and leaves nothing behind: no
// publish, no body, no entry in the indexes that took it, none in PyAMS's
// list; the other entries of the run are stored and published, in order,
// and the indexes they touched expire.
func TestAppendBatchRunFails(t *testing.T) {
	t.Parallel()
	rdb, _ := realRedis(t)
	ctx := context.Background()
	h, channel := inboxHistory(t, rdb, history.Config{})
	ps := subscribe(t, rdb, channel)
	pfx := "{" + h.ListKey(testHost) + "}:"
	if err := rdb.Set(ctx, pfx+"i:users:bad", "not a set", 0).Err(); err != nil {
		t.Fatal(err)
	}
	entries := []history.Entry{
		note("id-1", "users:alice", "c", "users:bob"),
		note("id-2", "users:alice", "c", "users:abe", "users:bad", "users:carol"), // abe before bad
		note("id-3", "users:alice", "c", "users:bob"),
	}
	entries = append(entries, entries[1]) // a copy: it fails with its first
	added, err := h.AppendBatch(ctx, entries)
	if !slices.Equal(added, []bool{true, false, true, false}) {
		t.Fatalf("AppendBatch = %v, %v; want id-1 and id-3 stored", added, err)
	}
	for i, want := range []bool{false, true, false, true} {
		if got := history.EntryError(err, i) != nil; got != want {
			t.Errorf("entry %d failed: %v, want %v (err %v)", i, got, want, err)
		}
	}
	wantDelivered(t, rdb, ps, channel, entries[0], entries[2])
	if ids, _ := rdb.ZRange(ctx, pfx+"i:users:bob", 0, -1).Result(); !slices.Equal(ids, []string{"id-1", "id-3"}) {
		t.Errorf("bob's index holds %v, want id-1 and id-3", ids)
	}
	for _, key := range []string{pfx + "m:id-2", pfx + "i:users:abe", pfx + "i:users:carol"} {
		if n, _ := rdb.Exists(ctx, key).Result(); n != 0 {
			t.Errorf("%s is left", key)
		}
	}
	if ttl, _ := rdb.PTTL(ctx, pfx+"i:users:bob").Result(); ttl <= 0 {
		t.Errorf("bob's index has no expiry (%v)", ttl)
	}
	if list, _ := rdb.LRange(ctx, h.ListKey(testHost), 0, -1).Result(); len(list) != 2 {
		t.Errorf("PyAMS's list holds %d entries, want 2", len(list))
	}
}

// TestAppendBatchLogRefused: a run whose site log was overwritten with a
// string stores nothing and leaves nothing: every entry gets the error,
// PyAMS's list and the indexes are as before.
func TestAppendBatchLogRefused(t *testing.T) {
	t.Parallel()
	rdb, _ := realRedis(t)
	ctx := context.Background()
	h, _ := inboxHistory(t, rdb, history.Config{})
	pfx := "{" + h.ListKey(testHost) + "}:"
	if err := rdb.Set(ctx, pfx+"l", "not a set", 0).Err(); err != nil {
		t.Fatal(err)
	}
	entries := []history.Entry{note("id-1", "users:alice", "c", "users:bob"), note("id-2", "users:alice", "c", "users:carol")}
	added, err := h.AppendBatch(ctx, entries)
	if !slices.Equal(added, []bool{false, false}) || history.EntryError(err, 0) == nil || history.EntryError(err, 1) == nil {
		t.Fatalf("AppendBatch = %v, %v; want both refused", added, err)
	}
	for _, key := range []string{h.ListKey(testHost), pfx + "i:users:bob", pfx + "i:users:carol", pfx + "o:users:alice", pfx + "t", pfx + "m:id-1"} {
		if n, _ := rdb.Exists(ctx, key).Result(); n != 0 {
			t.Errorf("%s is left", key)
		}
	}
}

// TestAppendBatchRunAborted: a run aborted before any write (the site's
// seq overwritten with a list) is stored again entry by entry, which fails
// the same way: every entry gets the error, nothing is published or listed.
func TestAppendBatchRunAborted(t *testing.T) {
	t.Parallel()
	rdb, _ := realRedis(t)
	ctx := context.Background()
	h, channel := inboxHistory(t, rdb, history.Config{})
	ps := subscribe(t, rdb, channel)
	if err := rdb.RPush(ctx, "{"+h.ListKey(testHost)+"}:seq", "not a number").Err(); err != nil {
		t.Fatal(err)
	}
	entries := []history.Entry{
		note("id-1", "users:alice", "c", "users:bob"),
		note("id-2", "users:alice", "c", "users:carol"),
	}
	added, err := h.AppendBatch(ctx, entries)
	if !slices.Equal(added, []bool{false, false}) || history.EntryError(err, 0) == nil || history.EntryError(err, 1) == nil {
		t.Fatalf("AppendBatch = %v, %v; want both refused", added, err)
	}
	wantDelivered(t, rdb, ps, channel) // nothing before the marker
	if n, _ := rdb.LLen(ctx, h.ListKey(testHost)).Result(); n != 0 {
		t.Errorf("PyAMS's list holds %d entries", n)
	}
}

// TestAppendBatchTrimSurvivesWrongType: an old body and an old index of
// another type met by the trims do not abort a run whose messages are
// published: both are stored and published once, and the old body is
// deleted with its id.
func TestAppendBatchTrimSurvivesWrongType(t *testing.T) {
	t.Parallel()
	rdb, _ := realRedis(t)
	ctx := context.Background()
	h, channel := inboxHistory(t, rdb, history.Config{InboxLength: 1})
	pfx := "{" + h.ListKey(testHost) + "}:"
	storeAll(t, h, note("id-0", "users:alice", "c", "users:bob"), note("id-00", "users:alice", "c", "users:carol", "users:zed"))
	ps := subscribe(t, rdb, channel)
	if err := rdb.Set(ctx, pfx+"m:id-0", "not a hash", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, pfx+"i:users:zed", "not a set", 0).Err(); err != nil {
		t.Fatal(err)
	}
	entries := []history.Entry{
		note("id-1", "users:alice", "c", "users:bob"),
		note("id-2", "users:alice", "c", "users:carol"),
	}
	added, err := h.AppendBatch(ctx, entries)
	if err != nil || !slices.Equal(added, []bool{true, true}) {
		t.Fatalf("AppendBatch = %v, %v; want both stored", added, err)
	}
	wantDelivered(t, rdb, ps, channel, entries...)
	if n, _ := rdb.Exists(ctx, pfx+"m:id-0").Result(); n != 0 {
		t.Error("the old body of another type is left")
	}
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
