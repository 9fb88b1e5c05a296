package wsgateway

import (
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/protocol"
)

// expectMuted checks that c, whose token has just expired, gets the logout
// frame and then nothing but PONG: a message for its principal is not sent.
func expectMuted(tb testing.TB, e *testEnv, c *websocket.Conn, sub string) {
	tb.Helper()
	if got := readText(tb, c); got != string(protocol.LogoutFrame) {
		tb.Fatalf("frame = %s, want the logout frame", got)
	}
	poll.Until(tb, "the connection muted", func() bool { s := e.g.Stats(); return s.Muted == 1 && s.Connections == 0 })
	if n := e.g.Count(); n != 0 {
		tb.Errorf("Count = %d, want 0: a muted connection is no session", n)
	}
	m := newMessage(siteA, "users:bob", "after expiry", sub)
	e.g.Deliver(m, m.PushJSON())
	if got := e.g.Stats().Delivered; got != 0 {
		tb.Errorf("delivered %d messages to a muted connection", got)
	}
	writeText(tb, c, protocol.Ping)
	if got := readText(tb, c); got != protocol.Pong { // anything sent before PONG would come first
		tb.Fatalf("got %s, want PONG and nothing else", got)
	}
}

// TestExpiryMutesSubprotocolConnections: by default a PyAMS subprotocol
// connection whose token expires gets the logout frame and then nothing; the
// close is its client's.
func TestExpiryMutesSubprotocolConnections(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	c := e.dialExpiring(t, auth.SourceSubprotocol, "users:alice")
	expectMuted(t, e, c, "users:alice")
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatalf("client close: %v", err)
	}
	poll.Until(t, "the muted connection gone", func() bool { return e.g.Stats().Muted == 0 })
	s := e.g.Stats()
	if s.Mutes != 1 || s.Disconnects[DisconnectClient] != 1 || s.Disconnects[DisconnectExpired] != 0 {
		t.Errorf("mutes %d, client %d, expired %d; want 1, 1, 0", s.Mutes, s.Disconnects[DisconnectClient], s.Disconnects[DisconnectExpired])
	}
	poll.Until(t, "the hub holds nothing", e.g.hub.idle)
}

// TestMuteGraceCloses: a muted connection its client leaves open is closed
// after MuteGrace with 4001 and no second logout frame.
func TestMuteGraceCloses(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{cfg: Config{ExpiryMode: ExpiryMute, MuteGrace: 100 * time.Millisecond}})
	c := e.dialExpiring(t, auth.SourceSubprotocol, "users:alice")
	if got := readText(t, c); got != string(protocol.LogoutFrame) {
		t.Fatalf("frame = %s, want the logout frame", got)
	}
	expectClose(t, c, protocol.CloseUnauthorized, protocol.ReasonExpired) // the next frame: no second logout
	poll.Until(t, "the muted connection gone", func() bool { return e.g.Stats().Muted == 0 })
	if s := e.g.Stats(); s.Mutes != 1 || s.Disconnects[DisconnectMuteGrace] != 1 {
		t.Errorf("mutes %d, mute_grace %d; want 1, 1", s.Mutes, s.Disconnects[DisconnectMuteGrace])
	}
}

// TestMutedConnectionMakesRoom: at its principal's connection limit, a new
// handshake closes the oldest muted connection instead of being refused.
func TestMutedConnectionMakesRoom(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{cfg: Config{MaxConnectionsPerPrincipal: 1}})
	old := e.dialExpiring(t, auth.SourceSubprotocol, "users:alice")
	expectMuted(t, e, old, "users:alice")

	fresh := e.connect(t, siteA, "users:alice") // not 429: the muted one makes room
	expectClose(t, old, protocol.CloseUnauthorized, protocol.ReasonExpired)
	poll.Until(t, "the muted connection gone", func() bool { return e.g.Stats().Muted == 0 })
	if s := e.g.Stats(); s.Disconnects[DisconnectMuteEvicted] != 1 || s.Rejected[RejectPrincipalLimit] != 0 {
		t.Errorf("mute_evicted %d, principal_limit %d; want 1, 0", s.Disconnects[DisconnectMuteEvicted], s.Rejected[RejectPrincipalLimit])
	}
	if n := e.principalSlots("users:alice"); n != 1 {
		t.Errorf("alice holds %d slots, want 1", n)
	}
	m := newMessage(siteA, "users:bob", "to the fresh one", "users:alice")
	e.g.Deliver(m, m.PushJSON())
	if got := readText(t, fresh); got != string(m.PushJSON()) {
		t.Fatalf("got %s, want the message", got)
	}
	// Without a muted connection, the limit refuses as before.
	_, resp, err := e.dialAs(t, "users:alice", nil)
	wantRefused(t, resp, err, http.StatusTooManyRequests)
}
