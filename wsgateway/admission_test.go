package wsgateway

import (
	"net/http"
	"testing"

	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/protocol"
)

// idle reports whether h holds no ticket, no principal slot, no open
// admission, no disconnect record and no indexed connection.
func (h *hub) idle() bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	a := h.admits
	return a.total == 0 && len(a.perPrincipal) == 0 && a.open == 0 && len(a.disconnected) == 0 && len(a.muted) == 0 &&
		len(h.all) == 0 && len(h.sites) == 0
}

func TestTicketLimits(t *testing.T) {
	t.Parallel()
	h := newHub()
	a, b := h.issue(2), h.issue(2)
	if a == nil || b == nil || h.issue(2) != nil {
		t.Fatal("issue(2) did not allow exactly two")
	}
	a.release()
	c := h.issue(2)
	if c == nil {
		t.Fatal("released slot not reusable")
	}
	var unlimited []*ticket
	for range 100 {
		x := h.issue(-1)
		if x == nil {
			t.Fatal("negative max limited")
		}
		unlimited = append(unlimited, x)
	}
	for _, x := range unlimited {
		x.release()
	}
	if !b.claim("a", 1) || c.claim("a", 1) || !c.claim("b", 1) {
		t.Fatal("per-principal limit of 1 not applied per principal")
	}
	if b.claim("c", -1) {
		t.Error("a ticket claimed a second principal")
	}
	b.release()
	c.release()
	if !h.idle() {
		t.Errorf("state left after every ticket was released: %+v", h.admits)
	}
}

// TestTicketReleaseOnEveryPath: whatever a handshake's path, the ticket's
// release gives back everything it holds, once.
func TestTicketReleaseOnEveryPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		path func(t *testing.T, h *hub, tk *ticket)
	}{
		{"token refused", func(t *testing.T, h *hub, tk *ticket) { tk.release() }},
		{"principal over its limit", func(t *testing.T, h *hub, tk *ticket) {
			other := h.issue(-1)
			defer other.release()
			if !other.claim("users:a", 1) || tk.claim("users:a", 1) {
				t.Fatal("limit of 1 not applied")
			}
		}},
		{"upgrade failed", func(t *testing.T, h *hub, tk *ticket) { tk.claim("users:a", -1) }},
		{"disconnected during the handshake", func(t *testing.T, h *hub, tk *ticket) {
			tk.claim("users:a", -1)
			h.disconnect("users:a")
			if tk.admit(fakeConn(1, siteA, "users:a", 1)) {
				t.Fatal("admitted although disconnected")
			}
		}},
		{"admitted", func(t *testing.T, h *hub, tk *ticket) {
			tk.claim("users:a", -1)
			if !tk.admit(fakeConn(1, siteA, "users:a", 1)) || h.len() != 1 {
				t.Fatal("not admitted")
			}
		}},
		{"muted", func(t *testing.T, h *hub, tk *ticket) {
			tk.claim("users:a", 1)
			if !tk.admit(fakeConn(1, siteA, "users:a", 1)) {
				t.Fatal("not admitted")
			}
			tk.mute()
			if h.len() != 0 {
				t.Fatal("a muted connection is still indexed")
			}
		}},
		{"muted, then its slot taken", func(t *testing.T, h *hub, tk *ticket) {
			c := fakeConn(1, siteA, "users:a", 1)
			tk.claim("users:a", 1)
			tk.admit(c)
			tk.mute()
			other := h.issue(-1)
			defer other.release()
			if !other.claim("users:a", 1) {
				t.Fatal("the muted connection did not make room")
			}
			if !c.stopping.Load() || c.req.reason != DisconnectMuteEvicted {
				t.Fatalf("the muted connection was not stopped as evicted: %+v", c.req)
			}
			if third := h.issue(-1); third.claim("users:a", 1) {
				t.Error("one muted connection made room twice")
			} else {
				third.release()
			}
		}},
		{"admit after release", func(t *testing.T, h *hub, tk *ticket) {
			tk.release()
			if tk.admit(fakeConn(1, siteA, "users:a", 1)) {
				t.Fatal("admitted after release")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHub()
			tk := h.issue(1)
			tt.path(t, h, tk)
			tk.release()
			tk.release() // later calls do nothing
			if !h.idle() {
				t.Errorf("state left: %+v, %d indexed", h.admits, h.len())
			}
			if h.issue(1) == nil {
				t.Error("the gateway slot was not given back")
			}
		})
	}
}

func TestAdmitAfterDisconnect(t *testing.T) {
	t.Parallel()
	h := newHub()
	alice := fakeConn(1, siteA, "users:alice", 1)
	bob := fakeConn(2, siteA, "users:bob", 1)
	late := fakeConn(3, siteA, "users:alice", 1)

	tAlice, tBob := h.issue(-1), h.issue(-1)
	h.disconnect("users:alice")
	tLate := h.issue(-1) // issued after the Disconnect: its token was checked after
	if tAlice.admit(alice) {
		t.Error("alice admitted although disconnected during her admission")
	}
	if !tBob.admit(bob) {
		t.Error("bob refused")
	}
	if !tLate.admit(late) {
		t.Error("an admission begun after Disconnect was refused")
	}
	if len(h.admits.disconnected) != 0 || h.admits.open != 0 {
		t.Errorf("admission state not cleared: %+v", h.admits)
	}
	// Without admissions open, nothing is recorded.
	h.disconnect("users:carol")
	if len(h.admits.disconnected) != 0 {
		t.Errorf("recorded without admissions: %v", h.admits.disconnected)
	}
	if h.len() != 2 {
		t.Errorf("len = %d, want 2", h.len())
	}
	for _, tk := range []*ticket{tAlice, tBob, tLate} {
		tk.release()
	}
	if !h.idle() {
		t.Errorf("state left: %+v", h.admits)
	}
}

// TestAdmissionReleasedOnEveryRefusal drives real handshakes down every
// refusal path and checks that the hub is left with nothing held.
func TestAdmissionReleasedOnEveryRefusal(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{allowed: []string{siteA}, cfg: Config{MaxConnectionsPerPrincipal: 1}})
	alice := e.connect(t, siteA, "users:alice")

	_, resp, err := e.dialAs(t, "users:alice", nil) // principal limit
	wantRefused(t, resp, err, http.StatusTooManyRequests)
	_, resp, err = e.dial(t, dialOptions{origin: "https://evil.example"}) // origin
	wantRefused(t, resp, err, http.StatusForbidden)
	resp, err = e.srv.Client().Get(e.srv.URL + "/ws/chat?host=" + siteA) // not an upgrade
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	bad, _, err := e.dial(t, dialOptions{query: "host=" + siteA, subprotocols: []string{protocol.SubProtocol, "junk"}})
	if err != nil {
		t.Fatal(err)
	}
	readText(t, bad) // the logout frame
	expectClose(t, bad, protocol.CloseUnauthorized, "")
	e.g.Disconnect("users:alice")
	expectClose(t, alice, protocol.CloseRevoked, "")

	poll.Until(t, "the hub holds nothing", e.g.hub.idle)
	want := map[RejectReason]uint64{RejectPrincipalLimit: 1, RejectOrigin: 1, RejectHandshake: 1, RejectToken: 1}
	for r, n := range want {
		if got := e.g.Stats().Rejected[r]; got != n {
			t.Errorf("rejected[%s] = %d, want %d", r, got, n)
		}
	}
	e.connect(t, siteA, "users:alice") // her slot was given back
}
