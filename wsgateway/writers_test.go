package wsgateway

import (
	"fmt"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/protocol"
)

// TestIdleConnectionHasNoWriter: an idle connection holds no writer
// goroutine; a delivery, a PING and the close each start one, which
// returns once its work is done, and nothing is lost between runs.
func TestIdleConnectionHasNoWriter(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{allowed: []string{siteA}})
	c := e.connect(t, siteA, "alice", "users:alice")
	idle := func() bool { return e.g.Stats().Writers == 0 }
	poll.Until(t, "no writer while idle", idle)
	for i := range 5 {
		title := fmt.Sprintf("wake-%d", i)
		m := newMessage(siteA, "", title, "users:alice")
		e.g.Deliver(m, m.PushJSON())
		if got := readText(t, c); !strings.Contains(got, title) {
			t.Fatalf("frame %d = %s, want %s", i, got, title)
		}
		poll.Until(t, "writer returned after a delivery", idle)
	}
	writeText(t, c, protocol.Ping)
	if got := readText(t, c); got != string(protocol.PongFrame) {
		t.Fatalf("answer to PING = %q, want PONG", got)
	}
	poll.Until(t, "writer returned after PONG", idle)
	before := e.g.Stats().Disconnects[DisconnectClient]
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatalf("close: %v", err)
	}
	poll.Until(t, "close counted by a writer", func() bool {
		s := e.g.Stats()
		return s.Disconnects[DisconnectClient] == before+1 && s.Writers == 0 && s.Connections == 0
	})
}
