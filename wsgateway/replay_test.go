package wsgateway

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/protocol"
)

// fakeHistory serves a fixed list. When gate is set, List reports on entered
// and waits for gate (or its context) before it reads the list, so that a test
// can deliver live messages while the history read is in progress.
type fakeHistory struct {
	list    atomic.Pointer[[]*message.Message]
	err     error
	entered chan struct{} // optional; receives one value per List
	gate    chan struct{} // optional; List waits until it is closed
	calls   atomic.Int64
	hosts   chan string // optional; receives the host of every List
}

func newFakeHistory(list ...*message.Message) *fakeHistory {
	h := &fakeHistory{}
	h.set(list...)
	return h
}

func (h *fakeHistory) set(list ...*message.Message) { h.list.Store(&list) }

func (h *fakeHistory) List(ctx context.Context, host string) ([]*message.Message, error) {
	h.calls.Add(1)
	if h.hosts != nil {
		h.hosts <- host
	}
	if h.entered != nil {
		h.entered <- struct{}{}
	}
	if h.gate != nil {
		select {
		case <-h.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if h.err != nil {
		return nil, h.err
	}
	return slices.Clone(*h.list.Load()), nil
}

// histMsg is a history entry with an id.
func histMsg(id, host, source string, targets ...string) *message.Message {
	m := newMessage(host, source, "history "+id, targets...)
	m.ID = id
	return m
}

// replayFixture is a site A history as alice (carrying group:editors) sees
// it, newest first: h0 and h1 (the since cursor) are old, h2 and h6 are newer
// and visible, h3 (other site), h4 (sent by alice) and h5 (for bob only) are
// newer but not visible to her.
func replayFixture() (list []*message.Message, visible map[string]*message.Message) {
	h := []*message.Message{
		histMsg("id-h0", siteA, "users:zed", "users:alice"),
		histMsg("id-h1", siteA, "users:zed", "group:editors"),
		histMsg("id-h2", siteA, "users:zed", "group:editors"),
		histMsg("id-h3", siteB, "users:zed", "users:alice"),
		histMsg("id-h4", siteA, "users:alice", "group:editors"),
		histMsg("id-h5", siteA, "users:zed", "users:bob"),
		histMsg("id-h6", siteA, "users:zed", message.Authenticated),
	}
	slices.Reverse(h)
	visible = map[string]*message.Message{}
	for _, m := range h {
		switch m.ID {
		case "id-h0", "id-h1", "id-h2", "id-h6":
			visible[m.ID] = m
		}
	}
	return h, visible
}

func TestReplay(t *testing.T) {
	t.Parallel()
	list, vis := replayFixture()
	push := func(ids ...string) []string {
		var out []string
		for _, id := range ids {
			out = append(out, string(vis[id].PushJSON()))
		}
		return out
	}
	gap := func(since string) string { return string(protocol.GapFrame(since)) }
	tooLong := strings.Repeat("a", message.MaxIDLength+1)
	tests := []struct {
		name      string
		history   History // nil: no History configured
		query     string
		want      []string // frames before the live message
		wantCalls int64
		wantGaps  uint64
	}{
		{"since found", newFakeHistory(list...), "since=id-h1", push("id-h2", "id-h6"), 1, 0},
		{"since is the newest", newFakeHistory(list...), "since=id-h6", nil, 1, 0},
		{"since unknown", newFakeHistory(list...), "since=id-gone",
			append([]string{gap("id-gone")}, push("id-h0", "id-h1", "id-h2", "id-h6")...), 1, 1},
		// A since she may not see is answered as an unknown one: whether
		// the gap frame comes must not tell her that a hidden message exists.
		{"since for someone else: as unknown", newFakeHistory(list...), "since=id-h5",
			append([]string{gap("id-h5")}, push("id-h0", "id-h1", "id-h2", "id-h6")...), 1, 1},
		{"since of another site: as unknown", newFakeHistory(list...), "since=id-h3",
			append([]string{gap("id-h3")}, push("id-h0", "id-h1", "id-h2", "id-h6")...), 1, 1},
		{"since too long", newFakeHistory(list...), "since=" + tooLong,
			append([]string{gap("")}, push("id-h0", "id-h1", "id-h2", "id-h6")...), 1, 1},
		{"since with junk", newFakeHistory(list...), "since=" + url.QueryEscape(`id-h1"}<script>`),
			append([]string{gap("")}, push("id-h0", "id-h1", "id-h2", "id-h6")...), 1, 1},
		{"empty history", newFakeHistory(), "since=id-h1", []string{gap("id-h1")}, 1, 1},
		{"no History", nil, "since=id-h1", []string{gap("id-h1")}, 0, 1},
		{"history error", &fakeHistory{err: errors.New("redis down")}, "since=id-h1", []string{gap("id-h1")}, 1, 1},
		{"no since", newFakeHistory(list...), "", nil, 0, 0},
		{"empty since", newFakeHistory(list...), "since=", nil, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{cfg: Config{History: tt.history}})
			c := e.connectWith(t, siteA, tt.query, "users:alice", "group:editors")
			for i, want := range tt.want {
				if got := readText(t, c); got != want {
					t.Fatalf("frame %d = %s, want %s", i, got, want)
				}
			}
			live := histMsg("id-live", siteA, "users:zed", "users:alice")
			e.g.Deliver(live, live.PushJSON())
			if got := readText(t, c); got != string(live.PushJSON()) {
				t.Fatalf("after replay got %s, want the live message", got)
			}
			s := e.g.Stats()
			if fh, ok := tt.history.(*fakeHistory); ok && fh.calls.Load() != tt.wantCalls {
				t.Errorf("List called %d times, want %d", fh.calls.Load(), tt.wantCalls)
			}
			wantReplayed := uint64(0)
			for _, f := range tt.want {
				if !strings.Contains(f, `"action":"gap"`) {
					wantReplayed++
				}
			}
			if s.Gaps != tt.wantGaps || s.Replayed != wantReplayed {
				t.Errorf("gaps %d replayed %d, want %d %d", s.Gaps, s.Replayed, tt.wantGaps, wantReplayed)
			}
			wantErrs := uint64(0)
			if fh, ok := tt.history.(*fakeHistory); ok && fh.err != nil {
				wantErrs = 1
			}
			if s.HistoryErrors != wantErrs {
				t.Errorf("history errors = %d, want %d", s.HistoryErrors, wantErrs)
			}
		})
	}
}

// TestReplaySeam delivers, while the history read is in progress, messages
// that the history read then returns too: each reaches the client once, in
// history order, and live-only messages follow the replay.
func TestReplaySeam(t *testing.T) {
	t.Parallel()
	_, vis := replayFixture()
	h0, h1, h2 := vis["id-h0"], vis["id-h1"], vis["id-h2"]
	seam := histMsg("id-seam", siteA, "users:zed", "users:alice")     // live during the read, then in history
	liveOnly := histMsg("id-live", siteA, "users:zed", "users:alice") // live during the read, not in history
	hist := &fakeHistory{entered: make(chan struct{}, 1), gate: make(chan struct{}), hosts: make(chan string, 1)}
	hist.set(h2, h1, h0)
	e := newEnv(t, envOptions{cfg: Config{History: hist}})
	c := e.connectWith(t, strings.ToUpper(siteA), "since=id-h1", "users:alice", "group:editors")

	<-hist.entered // the connection is registered and its history read has begun
	if host := <-hist.hosts; host != siteA {
		t.Errorf("history read for %q, want the normalized site %q", host, siteA)
	}
	for _, m := range []*message.Message{seam, h1, liveOnly} { // h1: the client has it (since)
		e.g.Deliver(m, m.PushJSON())
	}
	hist.set(seam, h2, h1, h0) // the seam message reached history too
	close(hist.gate)

	for i, want := range []*message.Message{h2, seam, liveOnly} {
		if got := readText(t, c); got != string(want.PushJSON()) {
			t.Fatalf("frame %d = %s, want %s", i, got, want.PushJSON())
		}
	}
	// A message the Publisher appended before it published can reach
	// Deliver after the replay: still skipped.
	e.g.Deliver(h2, h2.PushJSON())
	marker := histMsg("id-marker", siteA, "users:zed", "users:alice")
	e.g.Deliver(marker, marker.PushJSON())
	if got := readText(t, c); got != string(marker.PushJSON()) {
		t.Fatalf("got %s, want the marker (a duplicate at the seam?)", got)
	}
	if got := e.g.Stats().SeamSkipped; got != 3 {
		t.Errorf("seam skipped = %d, want 3 (seam, h1, h2)", got)
	}
}

// TestReplayInterrupted: a close requested while the history read is
// blocked cancels the read; the connection closes at once.
func TestReplayInterrupted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		queue  int
		act    func(e *testEnv)
		code   websocket.StatusCode
		reason DisconnectReason
	}{
		{"disconnect", 0, func(e *testEnv) {
			if n := e.g.Disconnect("users:alice"); n != 1 {
				t.Errorf("Disconnect = %d, want 1", n)
			}
		}, protocol.CloseRevoked, DisconnectRevoked},
		// Replay does not use the queue, but live messages queue meanwhile
		// and overflow it: the writer is not blocked on the socket, so the
		// queue holds slackFactor times QueueSize first.
		{"queue overflow", 2, func(e *testEnv) {
			for i := range 2*slackFactor + 1 {
				m := histMsg(fmt.Sprintf("id-%03d", i), siteA, "users:zed", "users:alice")
				e.g.Deliver(m, m.PushJSON())
			}
		}, protocol.CloseSlowConsumer, DisconnectSlow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hist := &fakeHistory{entered: make(chan struct{}, 1), gate: make(chan struct{})}
			// No timeout to end the read: only the close may.
			e := newEnv(t, envOptions{cfg: Config{History: hist, QueueSize: tt.queue, ReplayTimeout: time.Hour}})
			t.Cleanup(func() { close(hist.gate) }) // runs before Shutdown: a failing test ends
			c := e.connectWith(t, siteA, "since=id-x", "users:alice")
			<-hist.entered
			tt.act(e)
			// Whatever was queued is not sent: a requested close wins.
			expectClose(t, c, tt.code, "")
			poll.Until(t, "condition", func() bool { return e.g.Count() == 0 })
			s := e.g.Stats()
			if s.Disconnects[tt.reason] != 1 || s.HistoryErrors != 0 || s.Gaps != 0 {
				t.Errorf("disconnects %v, history errors %d, gaps %d", s.Disconnects, s.HistoryErrors, s.Gaps)
			}
		})
	}
}

func TestGapFrame(t *testing.T) {
	t.Parallel()
	for since, want := range map[string]string{
		"01JHQ0000000000000000ABCDE": `{"action":"gap","status":"warning","since":"01JHQ0000000000000000ABCDE"}`,
		"":                           `{"action":"gap","status":"warning","since":""}`,
		`a"b\c<`:                     `{"action":"gap","status":"warning","since":"a\"b\\c\u003c"}`,
	} {
		if got := string(protocol.GapFrame(since)); got != want {
			t.Errorf("protocol.GapFrame(%q) = %s, want %s", since, got, want)
		}
	}
}

func TestIDSet(t *testing.T) {
	t.Parallel()
	r := message.Recipient{Host: siteA, Principal: "users:alice", Principals: []string{"users:alice"}}
	visible, at := visibleOf([]*message.Message{
		histMsg("b", siteA, "users:zed", "users:alice"),
		histMsg("a", siteA, "users:zed", "users:alice"),
		histMsg("a", siteA, "users:zed", "users:alice"),
		histMsg("hidden", siteA, "users:zed", "users:bob"),
		histMsg("", siteA, "users:zed", "users:alice"),
	}, r)
	if !slices.Equal(at, []int{0, 1, 2, 4}) {
		t.Fatalf("visible at %v, want [0 1 2 4]", at)
	}
	s := newIDSet(visible)
	if !slices.Equal(s, idSet{"a", "b"}) {
		t.Fatalf("set = %v, want [a b]", s)
	}
	for id, want := range map[string]bool{"a": true, "b": true, "hidden": false, "": false, "c": false} {
		if s.has(id) != want {
			t.Errorf("has(%q) = %v, want %v", id, !want, want)
		}
	}
	var empty idSet
	if empty.has("a") {
		t.Error("empty set has a")
	}
}

// TestReplayStopsAtTokenExpiry: a replay does not outlive the token; once it
// has expired the connection gets the logout frame and 4001 instead of more
// history; under ExpiryMute (a subprotocol connection), it is muted instead
// of closed.
func TestReplayStopsAtTokenExpiry(t *testing.T) {
	t.Parallel()
	for _, mode := range []ExpiryMode{ExpiryClose, ExpiryMute} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			list, _ := replayFixture()
			late := func() time.Time { return time.Now().Add(48 * time.Hour) } // long after every test token's exp
			e := newEnv(t, envOptions{cfg: Config{History: newFakeHistory(list...), Now: late, ExpiryMode: mode}})
			c := e.connectWith(t, siteA, "since=id-h1", "users:alice", "group:editors")
			if mode == ExpiryMute {
				expectMuted(t, e, c, "users:alice")
			} else {
				if got := readText(t, c); got != string(protocol.LogoutFrame) {
					t.Fatalf("first frame %s, want the logout frame (no replay past the token's expiry)", got)
				}
				expectClose(t, c, protocol.CloseUnauthorized, "")
			}
			if got := e.g.Stats().Replayed; got != 0 {
				t.Fatalf("replayed %d messages after the token expired", got)
			}
		})
	}
}
