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

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/message"
)

// fakeStore is an entryStore that fails the entries of the sites (or ids) it
// is told to, and records, per site, the ids it stored in the order it stored
// them. Like History it stores an id once. Safe for concurrent use.
type fakeStore struct {
	mu     sync.Mutex
	fail   func(call int, e history.Entry) error // the error of e in call number call, nil to store it
	before hook
	after  hook
	calls  int
	seen   map[string]bool
	stored map[string][]string // ids per host, in storage order
}

func newFakeStore() *fakeStore {
	return &fakeStore{seen: map[string]bool{}, stored: map[string][]string{}}
}

// hook runs around a store call, without the store's lock (calls may be
// concurrent): call counts the calls from 1.
type hook func(ctx context.Context, call int, entries []history.Entry) error

// AppendBatch stores entries. A before hook that returns an error fails
// every entry without storing it (a round trip that never reached Redis);
// an after hook that returns one fails them all once they are stored (a
// reply that never came back). Hooks run without the lock.
func (f *fakeStore) AppendBatch(ctx context.Context, entries []history.Entry) ([]bool, error) {
	f.mu.Lock()
	f.calls++
	call, before, after := f.calls, f.before, f.after
	f.mu.Unlock()
	if before != nil {
		if err := before(ctx, call, entries); err != nil {
			return make([]bool, len(entries)), err
		}
	}
	added, err := f.store(call, entries)
	if after != nil {
		if err := after(ctx, call, entries); err != nil {
			return make([]bool, len(entries)), err
		}
	}
	return added, err
}

func (f *fakeStore) store(call int, entries []history.Entry) ([]bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	added, errs := make([]bool, len(entries)), make([]error, len(entries))
	failed := false
	for i, e := range entries {
		if f.fail != nil {
			if errs[i] = f.fail(call, e); errs[i] != nil {
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
		return added, &history.BatchError{Errs: errs}
	}
	return added, nil
}

// setFail replaces the failure rule.
func (f *fakeStore) setFail(fail func(call int, e history.Entry) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = fail
}

// setHooks replaces the before and after hooks.
func (f *fakeStore) setHooks(before, after hook) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.before, f.after = before, after
}

// failHosts makes the entries of the sites fail with err, and only those.
func (f *fakeStore) failHosts(err error, sites ...string) {
	f.setFail(func(_ int, e history.Entry) error {
		if slices.Contains(sites, site(e.Host)) {
			return err
		}
		return nil
	})
}

func (f *fakeStore) ids(site string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.stored[hostOf(site)])
}

func (f *fakeStore) has(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seen[id]
}

func (f *fakeStore) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

var (
	errDown  = fmt.Errorf("%w: history append batch: dial tcp: connection refused", ErrUnavailable)
	errWrong = fmt.Errorf("%w: history append batch: %w", ErrUnavailable,
		redisError("WRONGTYPE Operation against a key holding the wrong kind of value script: 1"))
)

// checkSink records the ids delivered, in order, and those that were not in
// the store at the moment of their delivery. Only the dispatcher calls
// Deliver; the test reads under the lock.
type checkSink struct {
	store *fakeStore

	mu        sync.Mutex
	delivered []string
	unstored  []string
}

func (s *checkSink) Deliver(m *message.Message, _ []byte) {
	stored := s.store.has(m.ID)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delivered = append(s.delivered, m.ID)
	if !stored {
		s.unstored = append(s.unstored, m.ID)
	}
}

func (s *checkSink) snapshot() (delivered, unstored []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.delivered), slices.Clone(s.unstored)
}

// testPipe is a Subscriber's dispatcher and history retry writer, as Run
// wires them, fed by the test instead of a read loop and storing into a
// fakeStore.
type testPipe struct {
	t     *testing.T
	s     *Subscriber
	store *fakeStore
	sink  *checkSink
	raw   *itemQueue
	done  chan struct{} // closed when both goroutines returned
	stop  context.CancelFunc
	close func() // closes raw and the control channel, once
}

// startPipe runs the dispatcher and the writer on a fake store; perSite
// bounds each site's retry queue as the history length would.
func startPipe(t *testing.T, cfg SubscriberConfig, perSite int) *testPipe {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never contacted
	t.Cleanup(func() { _ = rdb.Close() })
	cfg.BackoffMin, cfg.BackoffMax = time.Millisecond, 5*time.Millisecond
	store := newFakeStore()
	sink := &checkSink{store: store}
	s, err := NewSubscriber(rdb, nil, sink, cfg)
	if err != nil {
		t.Fatalf("NewSubscriber: %v", err)
	}
	p := &testPipe{t: t, s: s, store: store, sink: sink, raw: newItemQueue(256, 1<<20), done: make(chan struct{})}
	ctl := make(chan string)
	entries := make(chan history.Entry, s.cfg.HistoryQueueSize)
	d := newDispatcher(s.cfg, store, nil, nil, sink, s.rep, entries, nil)
	w := newRetryWriter(s.cfg, store, perSite, d.pending, s.rep)
	ctx, cancel := context.WithCancel(context.Background())
	p.stop = cancel
	p.close = sync.OnceFunc(func() {
		p.raw.close()
		close(ctl)
	})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer close(entries)
		d.run(ctx, ctx.Done(), p.raw, ctl)
	}()
	go func() {
		defer wg.Done()
		w.run(ctx, entries)
	}()
	go func() {
		wg.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		cancel()
		p.close()
		<-p.done
	})
	return p
}

// site is the site name of a host made by hostOf.
func site(host string) string {
	return strings.TrimSuffix(strings.TrimPrefix(host, "https://"), ".example.com")
}

// hostOf returns the host of a site name: "a" is https://a.example.com.
func hostOf(site string) string { return "https://" + site + ".example.com" }

// payloadOf returns the payload of a message with the given id; its site is
// the id's prefix before the first digit ("a3": site "a").
func payloadOf(id string) string {
	m := &message.Message{
		Host: hostOf(strings.TrimRight(id, "0123456789")), Channel: DefaultChannel, Action: "notify",
		Category: "c", Status: "info", Title: id, Body: "b", Source: &message.Source{ID: "users:alice"},
		Target: &message.Target{Principals: []string{"users:bob"}}, Timestamp: "2025-01-18T17:20:54+00:00", ID: id,
	}
	return string(m.AppendJSON(nil, true))
}

// send queues the payloads of messages with the given ids.
func (p *testPipe) send(ids ...string) {
	for _, id := range ids {
		p.raw.push(item{payload: payloadOf(id)})
	}
}

func (p *testPipe) eventually(what string, cond func(st SubscriberStats) bool) {
	p.t.Helper()
	deadline := time.NewTimer(15 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond(p.s.Stats()) {
		select {
		case <-deadline.C:
			p.t.Fatalf("timed out waiting for %s; stats %+v; stored %v", what, p.s.Stats(), p.store.stored)
		case <-tick.C:
		}
	}
}

func (p *testPipe) waitStored(site string, want ...string) {
	p.t.Helper()
	p.eventually(fmt.Sprintf("%s stored as %v", site, want), func(SubscriberStats) bool {
		return len(p.store.ids(site)) >= len(want)
	})
	if got := p.store.ids(site); !slices.Equal(got, want) {
		p.t.Errorf("%s stored %v, want %v in this order", site, got, want)
	}
}

// waitDelivered waits until want were delivered, in this order, and checks
// that exactly those in unstored were not in the store when delivered.
func (p *testPipe) waitDelivered(want []string, unstored []string) {
	p.t.Helper()
	p.eventually(fmt.Sprintf("%d deliveries", len(want)), func(st SubscriberStats) bool {
		return st.Delivered >= uint64(len(want))
	})
	got, gotUnstored := p.sink.snapshot()
	if !slices.Equal(got, want) {
		p.t.Errorf("delivered %v, want %v", got, want)
	}
	if !slices.Equal(gotUnstored, unstored) {
		p.t.Errorf("delivered before they were stored: %v, want %v", gotUnstored, unstored)
	}
}

func (p *testPipe) checkDrops(want map[DropReason]uint64) {
	p.t.Helper()
	for reason, n := range p.s.Stats().Dropped {
		if n != want[reason] {
			p.t.Errorf("Dropped[%s] = %d, want %d", reason, n, want[reason])
		}
	}
}

func pending(n uint64) func(SubscriberStats) bool {
	return func(st SubscriberStats) bool { return st.HistoryPending == n }
}

// gate blocks the store calls it is told to until opened; entered says
// when such a call started.
type gate struct {
	entered chan struct{}
	open    chan struct{}
}

func newGate() *gate { return &gate{entered: make(chan struct{}, 16), open: make(chan struct{})} }

// hook blocks call number call until the gate opens, then lets it store.
func (g *gate) hook(call int) hook {
	return func(_ context.Context, n int, _ []history.Entry) error {
		if n == call {
			g.wait()
		}
		return nil
	}
}

// wait signals entered and blocks until the gate opens.
func (g *gate) wait() {
	g.entered <- struct{}{}
	<-g.open
}

// Every message is stored before it is delivered, a batch in one round trip:
// whatever is queued when the dispatcher is free, up to HistoryBatch.
func TestDispatchStoresBeforeDelivery(t *testing.T) {
	t.Parallel()
	p := startPipe(t, SubscriberConfig{HistoryBatch: 4}, 50)
	g := newGate()
	p.store.setHooks(g.hook(1), nil)
	p.send("a0")
	<-g.entered // the dispatcher is storing a0: the rest queues
	p.send("a1", "b1", "a2", "b2", "a3", "a3", "b3", "a4", "b4")
	if n := p.raw.len(); n != 9 {
		t.Fatalf("%d payloads queued, want 9", n)
	}
	close(g.open)
	want := []string{"a0", "a1", "b1", "a2", "b2", "a3", "b3", "a4", "b4"}
	p.waitDelivered(want, nil)
	p.waitStored("a", "a0", "a1", "a2", "a3", "a4")
	p.waitStored("b", "b1", "b2", "b3", "b4")
	// a0, then 9 payloads in batches of 4, 4 and 1; the second a3 is a
	// duplicate in its batch and neither stored nor delivered again.
	if n := p.store.callCount(); n != 4 {
		t.Errorf("%d round trips, want 4", n)
	}
	st := p.s.Stats()
	if st.HistoryWritten != 9 || st.HistoryDeferred != 0 || st.HistoryPending != 0 || st.Duplicates != 1 {
		t.Errorf("stats = %+v, want 9 written, 1 duplicate, none deferred", st)
	}
	p.checkDrops(nil)
}

// A site whose writes fail does not hold back the others; its messages are
// delivered all the same, and stored, including those that came after the
// failure, once it recovers.
func TestDispatchFailingSiteDoesNotBlockOthers(t *testing.T) {
	t.Parallel()
	p := startPipe(t, SubscriberConfig{}, 50)
	p.store.failHosts(errDown, "a")
	p.send("a1", "a2")
	p.eventually("a's entries waiting", pending(2))
	p.send("b1", "b2", "a3", "b3")
	p.waitStored("b", "b1", "b2", "b3")
	p.eventually("a3 waiting behind a's failed entries", pending(3))
	if got := p.store.ids("a"); len(got) != 0 {
		t.Fatalf("a stored %v while failing", got)
	}
	p.store.failHosts(nil)
	p.waitStored("a", "a1", "a2", "a3")
	p.eventually("nothing waiting", pending(0))
	p.send("a4", "b4")
	p.waitStored("a", "a1", "a2", "a3", "a4")
	p.waitStored("b", "b1", "b2", "b3", "b4")
	p.waitDelivered([]string{"a1", "a2", "b1", "b2", "a3", "b3", "a4", "b4"}, []string{"a1", "a2", "a3"})
	if st := p.s.Stats(); st.HistoryWritten != 8 || st.HistoryDuplicates != 0 || st.HistoryDeferred != 3 {
		t.Errorf("stats = %+v, want 8 written, 3 deferred, no duplicates", st)
	}
	p.checkDrops(nil)
}

// A site's entries are stored in the order they were read however its
// writes fail: entries read after a failure wait behind it, and a failing
// site's oldest entry is retried alone.
func TestDispatchKeepsSiteOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		fail func(call int, e history.Entry) error
	}{
		{"site fails every other call", func(call int, e history.Entry) error {
			if site(e.Host) == "a" && call%2 == 1 {
				return errDown
			}
			return nil
		}},
		{"sites fail in turns", func(call int, e history.Entry) error {
			if (site(e.Host) == "a") == (call%3 == 0) {
				return errDown
			}
			return nil
		}},
		{"oldest entry fails alone", func() func(int, history.Entry) error {
			attempts := 0 // of a0; the fake calls fail under its lock
			return func(_ int, e history.Entry) error {
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
			p := startPipe(t, SubscriberConfig{HistoryBatch: 4}, 1000)
			p.store.setFail(tt.fail)
			var wantA, wantB, all []string
			for i := range 60 {
				a, b := fmt.Sprintf("a%d", i), fmt.Sprintf("b%d", i)
				p.send(a, b)
				wantA, wantB, all = append(wantA, a), append(wantB, b), append(all, a, b)
				if i == 0 {
					// Later entries arrive while a0 waits, when it fails.
					p.eventually("a0 written", func(st SubscriberStats) bool {
						return st.HistoryWritten > 0 || st.HistoryPending > 0
					})
				}
			}
			p.waitStored("a", wantA...)
			p.waitStored("b", wantB...)
			p.eventually("nothing waiting", pending(0))
			// The last batch is stored before it is delivered: wait for it.
			p.eventually("every message delivered", func(st SubscriberStats) bool { return st.Delivered == uint64(len(all)) })
			if got, _ := p.sink.snapshot(); !slices.Equal(got, all) {
				t.Errorf("delivered %v, want %v", got, all)
			}
			p.checkDrops(nil)
		})
	}
}

// The retry queues are bounded per site (the oldest entry is superseded)
// and in total (the oldest of the site, or a new site's entry, is dropped).
// Every message is delivered all the same.
func TestDispatchRetryBounds(t *testing.T) {
	t.Parallel()
	p := startPipe(t, SubscriberConfig{HistoryRetryQueueSize: 4}, 3)
	p.store.failHosts(errDown, "a", "b", "c")

	p.send("a1", "a2", "a3", "a4", "a5")
	p.eventually("a's newest 3 waiting", func(st SubscriberStats) bool {
		return st.HistoryPending == 3 && st.Dropped[DropHistorySuperseded] == 2
	})
	p.send("b1", "b2")
	p.eventually("b1 dropped for b2", func(st SubscriberStats) bool {
		return st.HistoryPending == 4 && st.Dropped[DropHistoryRetryQueueFull] == 1
	})
	p.send("c1")
	p.eventually("c1 dropped: c has nothing older to give up", func(st SubscriberStats) bool {
		return st.Dropped[DropHistoryRetryQueueFull] == 2
	})
	if st := p.s.Stats(); st.HistoryPending != 4 {
		t.Errorf("HistoryPending = %d, want the bound, 4", st.HistoryPending)
	}

	p.store.failHosts(nil)
	p.waitStored("a", "a3", "a4", "a5")
	p.waitStored("b", "b2")
	p.eventually("nothing waiting", pending(0))
	p.send("c2")
	p.waitStored("c", "c2")
	all := []string{"a1", "a2", "a3", "a4", "a5", "b1", "b2", "c1", "c2"}
	p.waitDelivered(all, all[:8])
	p.checkDrops(map[DropReason]uint64{DropHistorySuperseded: 2, DropHistoryRetryQueueFull: 2})
}

// The queue to the retry writer is bounded: while the writer is busy and
// the queue is full, messages are delivered but not stored.
func TestDispatchHistoryQueueFull(t *testing.T) {
	t.Parallel()
	p := startPipe(t, SubscriberConfig{HistoryQueueSize: 1}, 50)
	p.store.failHosts(errDown, "a")
	g := newGate()
	p.store.setHooks(g.hook(2), nil) // the writer's first retry of a1
	p.send("a1")
	<-g.entered
	p.send("a2", "a3", "a4") // a2 fills the queue; a3 and a4 find it full
	p.eventually("a3 and a4 dropped", func(st SubscriberStats) bool {
		return st.Delivered == 4 && st.Dropped[DropHistoryQueueFull] == 2
	})
	p.store.failHosts(nil)
	close(g.open)
	p.waitStored("a", "a1", "a2")
	p.eventually("nothing waiting", pending(0))
	p.waitDelivered([]string{"a1", "a2", "a3", "a4"}, []string{"a1", "a2", "a3", "a4"})
	p.checkDrops(map[DropReason]uint64{DropHistoryQueueFull: 2})
}

// More failing sites than a round holds: rounds rotate, so a site at the end
// that recovers is stored although the first ones still fail.
func TestDispatchRotatesSites(t *testing.T) {
	t.Parallel()
	p := startPipe(t, SubscriberConfig{HistoryBatch: 2}, 50)
	p.store.failHosts(errDown, "a", "b", "c", "d", "e")
	p.send("a1", "b1", "c1", "d1", "e1")
	p.eventually("every site waiting", pending(5))
	p.store.failHosts(errDown, "a", "b", "c", "d")
	p.waitStored("e", "e1")
	p.eventually("the others still waiting", pending(4))
	p.checkDrops(nil)
}

// Permanent errors drop the entry (history_rejected), whether on the
// dispatcher's write or on a retry, and free the site's queue; the message
// is delivered.
func TestDispatchPermanentErrors(t *testing.T) {
	t.Parallel()
	p := startPipe(t, SubscriberConfig{}, 50)
	p.store.failHosts(errWrong, "r")
	p.send("r1", "b1")
	p.waitStored("b", "b1")
	p.eventually("r1 rejected", func(st SubscriberStats) bool { return st.Dropped[DropHistoryRejected] == 1 })

	p.store.failHosts(errDown, "a")
	p.send("a1", "a2")
	p.eventually("a waiting", pending(2))
	p.store.setFail(func(_ int, e history.Entry) error {
		if e.ID == "a1" {
			return errWrong
		}
		return nil
	})
	p.waitStored("a", "a2")
	p.eventually("nothing waiting", pending(0))
	p.waitDelivered([]string{"r1", "b1", "a1", "a2"}, []string{"r1", "a1", "a2"})
	if st := p.s.Stats(); st.HistoryDeferred != 2 {
		t.Errorf("HistoryDeferred = %d, want 2 (r1 was refused for good, not deferred)", st.HistoryDeferred)
	}
	p.checkDrops(map[DropReason]uint64{DropHistoryRejected: 2})
}

// A write that takes longer than StoreTimeout does not hold the batch back:
// it is delivered, and stored by the retry writer, once, in order, whether
// the slow write reached Redis or not. Later messages of its sites wait
// behind it; other sites' do not.
func TestDispatchStoreTimeout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		replyLost bool // the slow write stored the entries, only its reply was lost
	}{
		{"write lost", false},
		{"reply lost", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := startPipe(t, SubscriberConfig{StoreTimeout: time.Millisecond}, 50)
			g := newGate()
			var mu sync.Mutex
			tried := map[string]bool{} // a1 and b1 were attempted
			slowCall := map[int]bool{} // calls with a first attempt of a1 or b1
			gated := false             // the first retry of either was held
			timeout := func(ctx context.Context) error {
				<-ctx.Done() // the dispatcher's StoreTimeout
				return fmt.Errorf("%w: history append batch: %w", ErrUnavailable, ctx.Err())
			}
			// before notes the first attempts of a1 and b1, and holds the
			// writer's first retry of either until the gate opens.
			before := func(ctx context.Context, call int, entries []history.Entry) error {
				mu.Lock()
				retry := false
				for _, e := range entries {
					if e.ID != "a1" && e.ID != "b1" {
						continue
					}
					if tried[e.ID] {
						retry = true
					} else {
						slowCall[call] = true
					}
					tried[e.ID] = true
				}
				slow, hold := slowCall[call], retry && !gated
				gated = gated || hold
				mu.Unlock()
				switch {
				case slow && !tt.replyLost:
					return timeout(ctx)
				case hold:
					g.wait()
				}
				return nil
			}
			after := func(ctx context.Context, call int, _ []history.Entry) error {
				mu.Lock()
				slow := slowCall[call]
				mu.Unlock()
				if slow && tt.replyLost {
					return timeout(ctx)
				}
				return nil
			}
			p.store.setHooks(before, after)
			p.send("a1", "b1")
			p.eventually("a1 and b1 delivered", func(st SubscriberStats) bool { return st.Delivered == 2 })
			p.send("a2", "b2", "c1")
			p.eventually("a2, b2 and c1 delivered", func(st SubscriberStats) bool { return st.Delivered == 5 })
			close(g.open)
			p.waitStored("a", "a1", "a2")
			p.waitStored("b", "b1", "b2")
			p.waitStored("c", "c1")
			p.eventually("nothing waiting", pending(0))
			// a1 and b1 timed out, a2 and b2 waited behind them; c1 did not.
			unstored := []string{"a1", "b1", "a2", "b2"}
			written, dups := uint64(5), uint64(0)
			if tt.replyLost {
				unstored, written, dups = unstored[2:], 3, 2
			}
			p.waitDelivered([]string{"a1", "b1", "a2", "b2", "c1"}, unstored)
			st := p.s.Stats()
			if st.HistoryDeferred != 4 || st.HistoryWritten != written || st.HistoryDuplicates != dups {
				t.Errorf("stats = %+v, want 4 deferred, %d written, %d duplicates", st, written, dups)
			}
			p.checkDrops(nil)
		})
	}
}

// Once the payload queue is closed, the dispatcher finishes and the
// entries waiting for a retry are still stored, until the context ends;
// then they are dropped (history_shutdown).
func TestDispatchShutdown(t *testing.T) {
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
			p := startPipe(t, SubscriberConfig{}, 50)
			p.store.failHosts(errDown, "a")
			p.send("a1", "b1", "a2")
			p.eventually("a waiting", pending(2))
			p.close()
			p.eventually("every message delivered", func(st SubscriberStats) bool { return st.Delivered == 3 })
			select {
			case <-p.done:
				t.Fatal("returned with entries waiting")
			default:
			}
			if tt.recover {
				p.store.failHosts(nil)
			} else {
				p.stop()
			}
			<-p.done
			if tt.recover {
				p.waitStored("a", "a1", "a2")
				p.checkDrops(nil)
			} else {
				p.checkDrops(map[DropReason]uint64{DropHistoryShutdown: 2})
			}
			p.waitStored("b", "b1")
			if st := p.s.Stats(); st.HistoryPending != 0 {
				t.Errorf("HistoryPending = %d after the goroutines returned", st.HistoryPending)
			}
		})
	}
}

func TestRetryQueuesTake(t *testing.T) {
	t.Parallel()
	q := newRetryQueues(10, 100)
	for _, id := range []string{"a1", "a2", "a3", "b1", "b2", "c1"} {
		q.add(history.Entry{Host: strings.TrimRight(id, "0123456789"), ID: id})
	}
	entryIDs := func(es []history.Entry) string {
		var out []string
		for _, e := range es {
			out = append(out, e.ID)
		}
		return strings.Join(out, " ")
	}
	var gone []string
	record := func(e history.Entry) { gone = append(gone, e.ID) }
	// Every site failed: probes only.
	if got := entryIDs(q.take(nil, 10)); got != "a1 b1 c1" {
		t.Fatalf("first round = %q, want the oldest of each site", got)
	}
	// a1 stored, b1 and c1 failed again.
	if n := q.settle(func(i int) bool { return i != 0 }, record); n != 1 {
		t.Fatalf("settle removed %d, want 1", n)
	}
	// a succeeded and sends the rest, breadth first; b and c probe again.
	if got := entryIDs(q.take(nil, 10)); got != "a2 b1 c1 a3" {
		t.Fatalf("second round = %q", got)
	}
	q.settle(func(int) bool { return false }, record)
	_, hasA := q.sites[siteKey("A")]
	_, hasB := q.sites[siteKey("B")]
	if got := entryIDs(q.take(nil, 10)); got != "b2" || q.size() != 1 || hasA || !hasB {
		t.Fatalf("third round = %q, size %d", got, q.size())
	}
	q.settle(func(int) bool { return false }, record)
	if q.size() != 0 || len(q.sites) != 0 || len(q.order) != 0 {
		t.Errorf("queues not empty: %d entries, %v", q.size(), q.order)
	}
	if want := []string{"a1", "a2", "a3", "b1", "c1", "b2"}; !slices.Equal(gone, want) {
		t.Errorf("settled %v, want %v", gone, want)
	}
	q.add(history.Entry{Host: "d", ID: "d1"})
	gone = nil
	if n := q.reset(record); n != 1 || !slices.Equal(gone, []string{"d1"}) || q.size() != 0 {
		t.Errorf("reset = %d, settled %v", n, gone)
	}
}

// pendingSites counts per site, case-insensitively, and keeps the gauge.
func TestPendingSites(t *testing.T) {
	t.Parallel()
	s := newCounters()
	p := newPendingSites(&s.pending)
	p.add("https://A.example.com")
	p.add("https://a.example.com")
	p.add("https://b.example.com")
	if !p.has("https://a.example.com") || s.pending.Load() != 3 {
		t.Fatalf("after 3 adds: has a %v, gauge %d", p.has("https://a.example.com"), s.pending.Load())
	}
	p.done("https://a.example.com")
	p.done("https://b.example.com")
	p.done("https://b.example.com") // more done than added: ignored
	if !p.has("https://A.example.com") || p.has("https://b.example.com") || s.pending.Load() != 1 {
		t.Errorf("after dones: has a %v, has b %v, gauge %d",
			p.has("https://A.example.com"), p.has("https://b.example.com"), s.pending.Load())
	}
}
