package wsgateway

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/protocol"
)

// rawUpgrade sends a websocket upgrade for query on a bare TCP connection
// and reads nothing: a client that never answers the server's close frame.
func (e *testEnv) rawUpgrade(tb testing.TB, query string) net.Conn {
	tb.Helper()
	addr := e.srv.Listener.Addr().String()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatalf("dial: %v", err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	_, err = fmt.Fprintf(c, "GET /ws/chat?%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", query, addr)
	if err != nil {
		tb.Fatalf("write the upgrade: %v", err)
	}
	return c
}

// TestRefusedUpgradesDoNotFillTheGateway: sockets refused for their token
// hold no slot of the gateway's connection limit, even while their client
// ignores the close, and the server lets them go without the client's
// answer.
func TestRefusedUpgradesDoNotFillTheGateway(t *testing.T) {
	t.Parallel()
	const limit, refused = 5, 2 * 5
	e := newEnv(t, envOptions{cfg: Config{MaxConnections: limit, ConnectRate: -1}})
	var raws []net.Conn
	for range refused {
		raws = append(raws, e.rawUpgrade(t, "host="+siteA))
	}
	poll.Until(t, "every tokenless upgrade answered", func() bool {
		s := e.g.Stats()
		return s.Rejected[RejectToken]+s.Rejected[RejectCapacity] == refused
	})
	if got := e.g.Stats().Rejected[RejectCapacity]; got != 0 {
		t.Errorf("%d tokenless upgrades got 503: refused sockets filled the gateway", got)
	}

	c := e.connect(t, siteA, "users:alice") // not 503: the refused sockets hold no slot
	m := newMessage(siteA, "users:bob", "hello", "users:alice")
	e.g.Deliver(m, m.PushJSON())
	if got := readText(t, c); got != string(m.PushJSON()) {
		t.Fatalf("got %s, want the message", got)
	}
	if s := e.g.Stats(); s.Connections != 1 || e.g.Count() != 1 {
		t.Errorf("connections %d, Count %d: want 1, 1 (refused sockets are not connections)", s.Connections, e.g.Count())
	}

	// The server closes every refused socket although its client never
	// answered: each reads the 101, the logout frame, the close frame, EOF.
	for i, raw := range raws {
		_ = raw.SetReadDeadline(time.Now().Add(ioTimeout)) // a safety net, not an assertion
		got, err := io.ReadAll(raw)
		if err != nil {
			t.Fatalf("socket %d: %v after %q; want the server to close it", i, err, got)
		}
		if !bytes.Contains(got, protocol.LogoutFrame) {
			t.Errorf("socket %d read %q, want the logout frame", i, got)
		}
	}
	poll.Until(t, "no refusal in progress", func() bool { return e.g.Stats().Refusing == 0 })
	if got := e.g.Stats().RefusalsUnanswered; got != refused {
		t.Errorf("unanswered refusals = %d, want %d", got, refused)
	}
}
