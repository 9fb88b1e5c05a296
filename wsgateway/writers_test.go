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

// TestIdleWriterDropsLargeBuffers: a burst larger than keepCap grows the
// connection's queue buffers; once the writer has sent it and has nothing
// left, the connection keeps no buffer over keepCap (queue.take keeps a
// large one only while the writer is behind).
func TestIdleWriterDropsLargeBuffers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{allowed: []string{siteA}, cfg: Config{QueueSize: 1024}})
	c := e.connect(t, siteA, "alice", "users:alice")
	poll.Until(t, "no writer while idle", func() bool { return e.g.Stats().Writers == 0 })
	const burst = 4 * keepCap
	for i := range burst { // queued at once, taken in one go
		m := newMessage(siteA, "", fmt.Sprintf("burst-%d", i), "users:alice")
		e.g.DeliverDeferred(m, m.PushJSON())
	}
	e.g.EndBatch()
	for i := range burst {
		if got := readText(t, c); !strings.Contains(got, fmt.Sprintf("burst-%d\"", i)) {
			t.Fatalf("frame %d = %.80s", i, got)
		}
	}
	poll.Until(t, "the writer done", func() bool { return e.g.Stats().Writers == 0 })
	conns := e.g.hub.byPrincipal()["alice"]
	if len(conns) != 1 {
		t.Fatalf("%d connections of alice", len(conns))
	}
	sc := conns[0]
	sc.send.mu.Lock()
	queueCap := cap(sc.send.items)
	sc.send.mu.Unlock()
	if queueCap > keepCap || cap(sc.spare) > keepCap {
		t.Fatalf("an idle connection keeps buffers of %d and %d items, want at most %d", queueCap, cap(sc.spare), keepCap)
	}
}
