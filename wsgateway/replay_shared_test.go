package wsgateway

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/protocol"
)

// stepHistory is a History whose List calls the test releases one by one.
// Each call takes its snapshot of the host's list when it is made, as an
// LRANGE does when Redis runs it, announces itself on calls and blocks
// until released or cancelled. It returns the stored slice itself, not a
// copy, so that a test can check that nobody modified it.
type stepHistory struct {
	calls       chan *listCall // every List call, in order
	stuck       string         // List of this host ignores its context, like a hung call
	inFlight    atomic.Int64
	maxInFlight atomic.Int64

	mu sync.Mutex
	// guarded by mu
	lists     map[string][]*message.Message // host -> newest first; replaced, never modified
	hostCalls map[string]int
	returned  []returnedList
}

// listCall is one blocked List call.
type listCall struct {
	ctx     context.Context
	host    string
	release chan struct{} // close to let List return its snapshot
}

// returnedList is a slice List returned and a copy of it, to compare later.
type returnedList struct{ got, orig []*message.Message }

func newStepHistory() *stepHistory {
	return &stepHistory{
		calls:     make(chan *listCall, 64),
		lists:     make(map[string][]*message.Message),
		hostCalls: make(map[string]int),
	}
}

// set stores host's list, newest first.
func (h *stepHistory) set(host string, list ...*message.Message) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lists[host] = list
}

func (h *stepHistory) List(ctx context.Context, host string) ([]*message.Message, error) {
	n := h.inFlight.Add(1)
	defer h.inFlight.Add(-1)
	for m := h.maxInFlight.Load(); n > m && !h.maxInFlight.CompareAndSwap(m, n); m = h.maxInFlight.Load() {
	}
	h.mu.Lock()
	list := h.lists[host]
	h.hostCalls[host]++
	h.mu.Unlock()
	call := &listCall{ctx: ctx, host: host, release: make(chan struct{})}
	h.calls <- call
	done := ctx.Done()
	if host == h.stuck {
		done = nil
	}
	select {
	case <-call.release:
	case <-done:
		return nil, ctx.Err()
	}
	h.mu.Lock()
	h.returned = append(h.returned, returnedList{got: list, orig: slices.Clone(list)})
	h.mu.Unlock()
	return list, nil
}

// next returns the next List call; it must be for host.
func (h *stepHistory) next(tb testing.TB, host string) *listCall {
	tb.Helper()
	select {
	case call := <-h.calls:
		if call.host != host {
			tb.Fatalf("List(%q), want List(%q)", call.host, host)
		}
		return call
	case <-time.After(ioTimeout):
		tb.Fatalf("no List call for %q", host)
		return nil
	}
}

// callsFor returns how many List calls host got.
func (h *stepHistory) callsFor(host string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hostCalls[host]
}

// checkUnmodified fails tb if a slice List returned was modified.
func (h *stepHistory) checkUnmodified(tb testing.TB) {
	tb.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, r := range h.returned {
		if !slices.Equal(r.got, r.orig) {
			tb.Errorf("list %d returned by List was modified", i)
		}
	}
}

// waitClosed waits until ch is closed, failing tb after ioTimeout.
func waitClosed(tb testing.TB, ch <-chan struct{}) {
	tb.Helper()
	select {
	case <-ch:
	case <-time.After(ioTimeout):
		tb.Fatal("channel not closed in time")
	}
}

// sitesOnOffer is the number of sites with a running or pending read.
func (hr *historyReads) sitesOnOffer() int {
	hr.mu.Lock()
	defer hr.mu.Unlock()
	return len(hr.sites)
}

// expectFrames reads the next frames of c, connected as users:<name> on
// host: the push forms of want, then (after delivering it) a live marker, so
// that an extra frame (a duplicate) fails the test.
func expectFrames(tb testing.TB, e *testEnv, c *websocket.Conn, host, name string, want ...*message.Message) {
	tb.Helper()
	for i, m := range want {
		if got := readText(tb, c); got != string(m.PushJSON()) {
			tb.Fatalf("%s: frame %d = %s, want %s", name, i, got, m.PushJSON())
		}
	}
	marker := histMsg("id-marker-"+name, host, "users:zed", "users:"+name)
	e.g.Deliver(marker, marker.PushJSON())
	if got := readText(tb, c); got != string(marker.PushJSON()) {
		tb.Fatalf("%s: got %s, want the marker (a duplicate?)", name, got)
	}
}

// TestReplaySharedReads: catch-ups of one site share history reads, but only
// reads that started after they registered. With one read slot, taken by
// site B, ten connections of site A register and wait: one read serves them
// all. Then message M is stored and delivered (the first ten get it live),
// and ten more connections register while that read is running: they must
// not use it (it does not have M, and they did not get M live); one newer
// read serves them all. Two reads for twenty connections, each of which gets
// every message exactly once.
func TestReplaySharedReads(t *testing.T) {
	t.Parallel()
	const group = 10
	hist := newStepHistory()
	h0 := histMsg("id-h0", siteA, "users:zed", "group:all")
	h1 := histMsg("id-h1", siteA, "users:zed", "group:all")
	h2 := histMsg("id-h2", siteA, "users:zed", "group:all")
	m := histMsg("id-m", siteA, "users:zed", "group:all")
	hist.set(siteA, h2, h1, h0)
	hist.set(siteB, histMsg("id-b0", siteB, "users:zed", "users:holder"))
	e := newEnv(t, envOptions{cfg: Config{
		History: hist, ReplayConcurrency: 1, ReplayTimeout: time.Hour, ConnectRate: -1,
	}})

	holder := e.connectWith(t, siteB, "since=id-b0", "users:holder")
	holderCall := hist.next(t, siteB) // holds the only slot

	connectGroup := func(first int) []*websocket.Conn {
		conns := make([]*websocket.Conn, group)
		for i := range conns {
			conns[i] = e.connectWith(t, siteA, "since=id-h1", fmt.Sprintf("users:u%02d", first+i), "group:all")
		}
		return conns
	}
	early := connectGroup(0)
	// One of them asked for a read, the others joined it.
	poll.Until(t, "condition", func() bool { return e.g.Stats().HistoryJoins == group-1 })
	close(holderCall.release)
	first := hist.next(t, siteA) // its snapshot: h2 h1 h0

	hist.set(siteA, m, h2, h1, h0) // M is stored, then published
	e.g.Deliver(m, m.PushJSON())
	late := connectGroup(group)
	poll.Until(t, "condition", func() bool { return e.g.Stats().HistoryJoins == 2*(group-1) })
	close(first.release)
	second := hist.next(t, siteA) // its snapshot has M
	close(second.release)

	expectFrames(t, e, holder, siteB, "holder")
	for i, c := range early {
		expectFrames(t, e, c, siteA, fmt.Sprintf("u%02d", i), h2, m) // M live
	}
	for i, c := range late {
		expectFrames(t, e, c, siteA, fmt.Sprintf("u%02d", group+i), h2, m) // M replayed
	}
	if n := hist.callsFor(siteA); n != 2 {
		t.Errorf("List(site A) called %d times, want 2", n)
	}
	s := e.g.Stats()
	if s.HistoryReads != 3 || s.Replayed != 2*group+group || s.Gaps != 0 || s.HistoryErrors != 0 {
		t.Errorf("reads %d replayed %d gaps %d errors %d, want 3 %d 0 0",
			s.HistoryReads, s.Replayed, s.Gaps, s.HistoryErrors, 3*group)
	}
	hist.checkUnmodified(t)
}

// TestReplayNotJoiningOlderRead: a message stored and delivered after a
// read started, but before a connection registered, reaches that connection:
// it does not use the older read (which lacks the message) but a newer one.
func TestReplayNotJoiningOlderRead(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		abandon bool // the first connection leaves while its read runs
	}{
		{"older read completes", false},
		{"older read abandoned", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hist := newStepHistory()
			h1 := histMsg("id-h1", siteA, "users:zed", "group:all")
			h2 := histMsg("id-h2", siteA, "users:zed", "group:all")
			m := histMsg("id-m", siteA, "users:zed", "group:all")
			hist.set(siteA, h2, h1)
			e := newEnv(t, envOptions{cfg: Config{History: hist, ReplayTimeout: time.Hour}})

			x := e.connectWith(t, siteA, "since=id-h1", "users:x", "group:all")
			first := hist.next(t, siteA)
			hist.set(siteA, m, h2, h1)
			e.g.Deliver(m, m.PushJSON()) // x gets it live; y is not registered yet
			y := e.connectWith(t, siteA, "since=id-h1", "users:y", "group:all")
			// y waits for a newer read, which starts once first ends.
			if tt.abandon {
				e.g.Disconnect("users:x")
				expectClose(t, x, protocol.CloseRevoked, "")
				waitClosed(t, first.ctx.Done()) // its last waiter left: cancelled
			} else {
				close(first.release)
			}
			second := hist.next(t, siteA)
			close(second.release)

			if !tt.abandon {
				expectFrames(t, e, x, siteA, "x", h2, m) // m live
			}
			expectFrames(t, e, y, siteA, "y", h2, m) // m replayed
			if n := hist.callsFor(siteA); n != 2 {
				t.Errorf("List called %d times, want 2", n)
			}
			if s := e.g.Stats(); s.HistoryJoins != 0 || s.HistoryErrors != 0 || s.Gaps != 0 {
				t.Errorf("joins %d errors %d gaps %d, want 0 0 0", s.HistoryJoins, s.HistoryErrors, s.Gaps)
			}
		})
	}
}

// TestReplayConcurrencyBound: catch-ups of six sites need six reads; no more
// than ReplayConcurrency run at once, and the others wait for a slot.
func TestReplayConcurrencyBound(t *testing.T) {
	t.Parallel()
	const sites = 6
	for _, limit := range []int{1, 2, 4} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			t.Parallel()
			hist := newStepHistory()
			e := newEnv(t, envOptions{cfg: Config{
				History: hist, ReplayConcurrency: limit, ReplayTimeout: time.Hour, ConnectRate: -1,
			}})
			conns := make([]*websocket.Conn, sites)
			hosts := make([]string, sites)
			want := make([]*message.Message, sites)
			for i := range conns {
				hosts[i] = fmt.Sprintf("https://site-%d.example", i)
				want[i] = histMsg(fmt.Sprintf("id-%d-new", i), hosts[i], "users:zed", "users:alice")
				hist.set(hosts[i], want[i], histMsg(fmt.Sprintf("id-%d-old", i), hosts[i], "users:zed", "users:alice"))
				conns[i] = e.connectWith(t, hosts[i], fmt.Sprintf("since=id-%d-old", i), "users:alice")
			}
			// Every connection has asked for its read; let the first
			// ones block while the others wait.
			poll.Until(t, "condition", func() bool { return e.g.reads.sitesOnOffer() == sites })
			calls := make([]*listCall, 0, sites)
			for len(calls) < limit {
				calls = append(calls, <-hist.calls)
			}
			for len(calls) < sites {
				close(calls[len(calls)-limit].release) // frees a slot
				calls = append(calls, <-hist.calls)
			}
			for _, call := range calls[sites-limit:] {
				close(call.release)
			}
			for i, c := range conns {
				if got := readText(t, c); got != string(want[i].PushJSON()) {
					t.Fatalf("site %d: got %s, want %s", i, got, want[i].PushJSON())
				}
			}
			if got := hist.maxInFlight.Load(); got != int64(limit) {
				t.Errorf("at most %d List calls ran at once, want %d", got, limit)
			}
			if s := e.g.Stats(); s.HistoryReads != sites {
				t.Errorf("history reads = %d, want %d", s.HistoryReads, sites)
			}
		})
	}
}

// TestReplayWaitForSlot: a catch-up waiting for a read slot, the only one
// being held by a hung read of site B, still ends on ReplayTimeout (gap
// frame) or on a close; either way its own read never runs.
func TestReplayWaitForSlot(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		timeout time.Duration
		act     func(t *testing.T, e *testEnv, c *websocket.Conn)
	}{
		{"timeout", 50 * time.Millisecond, func(t *testing.T, e *testEnv, c *websocket.Conn) {
			if got, want := readText(t, c), string(protocol.GapFrame("id-h1")); got != want {
				t.Fatalf("got %s, want the gap frame %s", got, want)
			}
			assertLiveNext(t, e, c, "users:alice")
			// The holder's wait timed out too; its writer counts its gap
			// after writing it.
			poll.Until(t, "condition", func() bool { s := e.g.Stats(); return s.HistoryErrors == 2 && s.Gaps == 2 })
			if s := e.g.Stats(); s.Replayed != 0 {
				t.Errorf("replayed %d, want 0", s.Replayed)
			}
		}},
		{"close", time.Hour, func(t *testing.T, e *testEnv, c *websocket.Conn) {
			poll.Until(t, "condition", func() bool { return e.g.reads.sitesOnOffer() == 2 }) // c waits
			e.g.Disconnect("users:alice")
			expectClose(t, c, protocol.CloseRevoked, "")
			poll.Until(t, "condition", func() bool { return e.g.reads.sitesOnOffer() == 1 }) // only the holder's
			s := e.g.Stats()
			if s.HistoryErrors != 0 || s.Gaps != 0 {
				t.Errorf("history errors %d gaps %d, want 0 0", s.HistoryErrors, s.Gaps)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hist := newStepHistory()
			hist.stuck = siteB
			hist.set(siteA, histMsg("id-h1", siteA, "users:zed", "users:alice"))
			e := newEnv(t, envOptions{cfg: Config{History: hist, ReplayConcurrency: 1, ReplayTimeout: tt.timeout}})
			e.connectWith(t, siteB, "since=id-b0", "users:holder")
			holder := hist.next(t, siteB)
			t.Cleanup(func() { close(holder.release) }) // runs before Shutdown
			c := e.connectWith(t, siteA, "since=id-h1", "users:alice")
			tt.act(t, e, c)
			if n := hist.callsFor(siteA); n != 0 {
				t.Errorf("List(site A) called %d times, want 0: it never got the slot", n)
			}
		})
	}
}

// TestReplaySharedReadOutlivesLeaver: a shared read is not cancelled when
// the connection that asked for it leaves while others still wait for it.
func TestReplaySharedReadOutlivesLeaver(t *testing.T) {
	t.Parallel()
	hist := newStepHistory()
	h1 := histMsg("id-h1", siteA, "users:zed", "group:all")
	h2 := histMsg("id-h2", siteA, "users:zed", "group:all")
	hist.set(siteA, h2, h1)
	e := newEnv(t, envOptions{cfg: Config{History: hist, ReplayConcurrency: 1, ReplayTimeout: time.Hour}})
	e.connectWith(t, siteB, "since=id-b0", "users:holder")
	holder := hist.next(t, siteB)
	x := e.connectWith(t, siteA, "since=id-h1", "users:x", "group:all") // asks for the read
	y := e.connectWith(t, siteA, "since=id-h1", "users:y", "group:all") // joins it
	poll.Until(t, "condition", func() bool { return e.g.Stats().HistoryJoins == 1 })
	close(holder.release)
	call := hist.next(t, siteA)
	e.g.Disconnect("users:x")
	expectClose(t, x, protocol.CloseRevoked, "")
	poll.Until(t, "condition", func() bool { return e.g.Count() == 2 }) // x is gone
	if err := call.ctx.Err(); err != nil {
		t.Fatalf("the shared read was cancelled: %v", err)
	}
	close(call.release)
	expectFrames(t, e, y, siteA, "y", h2)
	if n := hist.callsFor(siteA); n != 1 {
		t.Errorf("List(site A) called %d times, want 1", n)
	}
}
