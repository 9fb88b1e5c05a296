package pubsub

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/message"
)

// fakeStore is an entryStore that fails the entries of the sites (or ids) it
// is told to, and records, per site, the ids it stored in the order it stored
// them. Like History it stores an id once. Safe for concurrent use.
type fakeStore struct {
	mu     sync.Mutex
	fail   func(call int, e Entry) error // the error of e in call number call, nil to store it
	calls  int
	seen   map[string]bool
	stored map[string][]string // ids per host, in storage order
}

func newFakeStore() *fakeStore {
	return &fakeStore{seen: map[string]bool{}, stored: map[string][]string{}}
}

func (f *fakeStore) AppendBatch(_ context.Context, entries []Entry) ([]bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	added, errs := make([]bool, len(entries)), make([]error, len(entries))
	failed := false
	for i, e := range entries {
		if f.fail != nil {
			if errs[i] = f.fail(f.calls, e); errs[i] != nil {
				failed = true
				continue
			}
		}
		if !f.seen[e.ID] {
			f.seen[e.ID], added[i] = true, true
			f.stored[e.Host] = append(f.stored[e.Host], e.ID)
		}
	}
	if failed {
		return added, &BatchError{Errs: errs}
	}
	return added, nil
}

// setFail replaces the failure rule.
func (f *fakeStore) setFail(fail func(call int, e Entry) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = fail
}

// failHosts makes the entries of hosts fail with err, and only those.
func (f *fakeStore) failHosts(err error, hosts ...string) {
	f.setFail(func(_ int, e Entry) error {
		if slices.Contains(hosts, e.Host) {
			return err
		}
		return nil
	})
}

func (f *fakeStore) ids(host string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.stored[host])
}

var (
	errDown  = fmt.Errorf("%w: history append batch: dial tcp: connection refused", ErrUnavailable)
	errWrong = fmt.Errorf("%w: history append batch: %w", ErrUnavailable,
		redisError("WRONGTYPE Operation against a key holding the wrong kind of value script: 1"))
)

// testWriter is a Subscriber's history writer running on a fakeStore.
type testWriter struct {
	t     *testing.T
	s     *Subscriber
	store *fakeStore
	in    chan Entry
	done  chan struct{} // closed when writeLoop returned
	stop  context.CancelFunc
	close func() // closes in, once
}

// startWriter runs writeLoop on a fake store; perSite bounds each site's
// retry queue as the history length would.
func startWriter(t *testing.T, cfg SubscriberConfig, perSite int) *testWriter {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never contacted
	t.Cleanup(func() { _ = rdb.Close() })
	cfg.BackoffMin, cfg.BackoffMax = time.Millisecond, 5*time.Millisecond
	s, err := NewSubscriber(rdb, nil, nopSink{}, cfg)
	if err != nil {
		t.Fatalf("NewSubscriber: %v", err)
	}
	w := &testWriter{t: t, s: s, store: newFakeStore(), in: make(chan Entry, 256), done: make(chan struct{})}
	s.store, s.retryPerSite = w.store, perSite
	ctx, cancel := context.WithCancel(context.Background())
	w.stop, w.close = cancel, sync.OnceFunc(func() { close(w.in) })
	go func() {
		defer close(w.done)
		s.writeLoop(ctx, w.in)
	}()
	t.Cleanup(func() {
		cancel()
		w.close()
		<-w.done
	})
	return w
}

// nopSink is a Sink that does nothing: the writer never calls it.
type nopSink struct{}

func (nopSink) Deliver(*message.Message, []byte) {}

// send queues entries with the given ids; an id's site is its prefix before
// the first digit ("a3": site "a").
func (w *testWriter) send(ids ...string) {
	for _, id := range ids {
		w.in <- Entry{Host: strings.TrimRight(id, "0123456789"), ID: id, Stored: []byte(id)}
	}
}

func (w *testWriter) eventually(what string, cond func(st SubscriberStats) bool) {
	w.t.Helper()
	deadline := time.NewTimer(15 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond(w.s.Stats()) {
		select {
		case <-deadline.C:
			w.t.Fatalf("timed out waiting for %s; stats %+v; stored %v", what, w.s.Stats(), w.store.stored)
		case <-tick.C:
		}
	}
}

func (w *testWriter) waitStored(host string, want ...string) {
	w.t.Helper()
	w.eventually(fmt.Sprintf("%s stored as %v", host, want), func(SubscriberStats) bool {
		return len(w.store.ids(host)) >= len(want)
	})
	if got := w.store.ids(host); !slices.Equal(got, want) {
		w.t.Errorf("%s stored %v, want %v in this order", host, got, want)
	}
}

func (w *testWriter) checkDrops(want map[DropReason]uint64) {
	w.t.Helper()
	for reason, n := range w.s.Stats().Dropped {
		if n != want[reason] {
			w.t.Errorf("Dropped[%s] = %d, want %d", reason, n, want[reason])
		}
	}
}

func pending(n uint64) func(SubscriberStats) bool {
	return func(st SubscriberStats) bool { return st.HistoryPending == n }
}

// A site whose writes fail does not hold back the others; its entries,
// including those queued after the failure, are stored once it recovers.
func TestWriterFailingSiteDoesNotBlockOthers(t *testing.T) {
	t.Parallel()
	w := startWriter(t, SubscriberConfig{}, 50)
	w.store.failHosts(errDown, "a")
	w.send("a1", "a2")
	w.eventually("a's entries waiting", pending(2))
	w.send("b1", "b2", "a3", "b3")
	w.waitStored("b", "b1", "b2", "b3")
	w.eventually("a3 waiting behind a's failed entries", pending(3))
	if got := w.store.ids("a"); len(got) != 0 {
		t.Fatalf("a stored %v while failing", got)
	}
	w.store.failHosts(nil)
	w.waitStored("a", "a1", "a2", "a3")
	w.eventually("nothing waiting", pending(0))
	w.send("a4", "b4")
	w.waitStored("a", "a1", "a2", "a3", "a4")
	w.waitStored("b", "b1", "b2", "b3", "b4")
	if st := w.s.Stats(); st.HistoryWritten != 8 || st.HistoryDuplicates != 0 {
		t.Errorf("HistoryWritten %d, HistoryDuplicates %d; want 8, 0", st.HistoryWritten, st.HistoryDuplicates)
	}
	w.checkDrops(nil)
}

// A site's entries are stored in the order they were queued however its
// writes fail: entries queued after a failure wait behind it, and a failing
// site's oldest entry is retried alone.
func TestWriterKeepsSiteOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		fail func(call int, e Entry) error
	}{
		{"site fails every other call", func(call int, e Entry) error {
			if e.Host == "a" && call%2 == 1 {
				return errDown
			}
			return nil
		}},
		{"sites fail in turns", func(call int, e Entry) error {
			if (e.Host == "a") == (call%3 == 0) {
				return errDown
			}
			return nil
		}},
		{"oldest entry fails alone", func() func(int, Entry) error {
			attempts := 0 // of a0; the fake calls fail under its lock
			return func(_ int, e Entry) error {
				if e.ID != "a0" {
					return nil
				}
				if attempts++; attempts <= 4 {
					return errDown
				}
				return nil
			}
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := startWriter(t, SubscriberConfig{HistoryBatch: 4}, 1000)
			w.store.setFail(tt.fail)
			var wantA, wantB []string
			for i := range 60 {
				a, b := fmt.Sprintf("a%d", i), fmt.Sprintf("b%d", i)
				w.send(a, b)
				wantA, wantB = append(wantA, a), append(wantB, b)
				if i == 0 {
					// Later entries arrive while a0 waits, when it fails.
					w.eventually("a0 written", func(st SubscriberStats) bool {
						return st.HistoryWritten > 0 || st.HistoryPending > 0
					})
				}
			}
			w.waitStored("a", wantA...)
			w.waitStored("b", wantB...)
			w.eventually("nothing waiting", pending(0))
			w.checkDrops(nil)
		})
	}
}

// The retry queues are bounded per site (the oldest entry is superseded)
// and in total (the oldest of the site, or a new site's entry, is dropped).
func TestWriterRetryBounds(t *testing.T) {
	t.Parallel()
	w := startWriter(t, SubscriberConfig{HistoryRetryQueueSize: 4}, 3)
	w.store.failHosts(errDown, "a", "b", "c")

	w.send("a1", "a2", "a3", "a4", "a5")
	w.eventually("a's newest 3 waiting", func(st SubscriberStats) bool {
		return st.HistoryPending == 3 && st.Dropped[DropHistorySuperseded] == 2
	})
	w.send("b1", "b2")
	w.eventually("b1 dropped for b2", func(st SubscriberStats) bool {
		return st.HistoryPending == 4 && st.Dropped[DropHistoryRetryQueueFull] == 1
	})
	w.send("c1")
	w.eventually("c1 dropped: c has nothing older to give up", func(st SubscriberStats) bool {
		return st.Dropped[DropHistoryRetryQueueFull] == 2
	})
	if st := w.s.Stats(); st.HistoryPending != 4 {
		t.Errorf("HistoryPending = %d, want the bound, 4", st.HistoryPending)
	}

	w.store.failHosts(nil)
	w.waitStored("a", "a3", "a4", "a5")
	w.waitStored("b", "b2")
	w.eventually("nothing waiting", pending(0))
	w.send("c2")
	w.waitStored("c", "c2")
	w.checkDrops(map[DropReason]uint64{DropHistorySuperseded: 2, DropHistoryRetryQueueFull: 2})
}

// More failing sites than a round holds: rounds rotate, so a site at the end
// that recovers is stored although the first ones still fail.
func TestWriterRotatesSites(t *testing.T) {
	t.Parallel()
	w := startWriter(t, SubscriberConfig{HistoryBatch: 2}, 50)
	w.store.failHosts(errDown, "a", "b", "c", "d", "e")
	w.send("a1", "b1", "c1", "d1", "e1")
	w.eventually("every site waiting", pending(5))
	w.store.failHosts(errDown, "a", "b", "c", "d")
	w.waitStored("e", "e1")
	w.eventually("the others still waiting", pending(4))
	w.checkDrops(nil)
}

// Permanent errors drop the entry (history_rejected), whether on the first
// write or on a retry, and free the site's queue.
func TestWriterPermanentErrors(t *testing.T) {
	t.Parallel()
	w := startWriter(t, SubscriberConfig{}, 50)
	w.store.failHosts(errWrong, "r")
	w.send("r1", "b1")
	w.waitStored("b", "b1")
	w.eventually("r1 rejected", func(st SubscriberStats) bool { return st.Dropped[DropHistoryRejected] == 1 })

	w.store.failHosts(errDown, "a")
	w.send("a1", "a2")
	w.eventually("a waiting", pending(2))
	w.store.setFail(func(_ int, e Entry) error {
		if e.ID == "a1" {
			return errWrong
		}
		return nil
	})
	w.waitStored("a", "a2")
	w.eventually("nothing waiting", pending(0))
	w.checkDrops(map[DropReason]uint64{DropHistoryRejected: 2})
}

// Once the queue is closed, the entries waiting for a retry are still
// stored, until the context ends; then they are dropped (history_shutdown).
func TestWriterShutdown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		recover bool
	}{
		{"flushes waiting entries", true},
		{"drops them when the context ends", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := startWriter(t, SubscriberConfig{}, 50)
			w.store.failHosts(errDown, "a")
			w.send("a1", "b1", "a2")
			w.eventually("a waiting", pending(2))
			w.close()
			select {
			case <-w.done:
				t.Fatal("writeLoop returned with entries waiting")
			default:
			}
			if tt.recover {
				w.store.failHosts(nil)
			} else {
				w.stop()
			}
			<-w.done
			if tt.recover {
				w.waitStored("a", "a1", "a2")
				w.checkDrops(nil)
			} else {
				w.checkDrops(map[DropReason]uint64{DropHistoryShutdown: 2})
			}
			w.waitStored("b", "b1")
			if st := w.s.Stats(); st.HistoryPending != 0 {
				t.Errorf("HistoryPending = %d after writeLoop returned", st.HistoryPending)
			}
		})
	}
}

func TestRetryQueuesTake(t *testing.T) {
	t.Parallel()
	q := newRetryQueues(10, 100)
	for _, id := range []string{"a1", "a2", "a3", "b1", "b2", "c1"} {
		q.add(Entry{Host: strings.TrimRight(id, "0123456789"), ID: id})
	}
	entryIDs := func(es []Entry) string {
		var out []string
		for _, e := range es {
			out = append(out, e.ID)
		}
		return strings.Join(out, " ")
	}
	// Every site failed: probes only.
	if got := entryIDs(q.take(nil, 10)); got != "a1 b1 c1" {
		t.Fatalf("first round = %q, want the oldest of each site", got)
	}
	// a1 stored, b1 and c1 failed again.
	if n := q.settle(func(i int) bool { return i != 0 }); n != 1 {
		t.Fatalf("settle removed %d, want 1", n)
	}
	// a succeeded and sends the rest, breadth first; b and c probe again.
	if got := entryIDs(q.take(nil, 10)); got != "a2 b1 c1 a3" {
		t.Fatalf("second round = %q", got)
	}
	q.settle(func(int) bool { return false })
	if got := entryIDs(q.take(nil, 10)); got != "b2" || q.size() != 1 || q.has("A") || !q.has("B") {
		t.Fatalf("third round = %q, size %d", got, q.size())
	}
	q.settle(func(int) bool { return false })
	if q.size() != 0 || len(q.sites) != 0 || len(q.order) != 0 {
		t.Errorf("queues not empty: %d entries, %v", q.size(), q.order)
	}
}
