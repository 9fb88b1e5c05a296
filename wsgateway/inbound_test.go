package wsgateway

import (
	"context"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/protocol"
)

func TestPingPong(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	c := e.connect(t, siteA, "users:alice")
	for range 3 {
		writeText(t, c, "PING")
		if got := readText(t, c); got != "PONG" {
			t.Fatalf("got %q, want PONG", got)
		}
	}
	if got := e.g.Stats().Ignored; got != 0 {
		t.Errorf("ignored = %d, want 0", got)
	}
}

// TestInboundTextIgnored checks that clients cannot inject messages: PyAMS
// dispatched {"data": {...}} from any authenticated client.
func TestInboundTextIgnored(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	mallory := e.connect(t, siteA, "users:mallory")
	victim := e.connect(t, siteA, "users:victim")
	injected := newMessage(siteA, "users:admin", "injected", "users:victim")
	for _, s := range []string{
		`{"data": ` + string(injected.PushJSON()) + `}`,
		string(injected.PushJSON()),
		"ping",                                // only the exact PING is answered
		strings.Repeat("x", DefaultReadLimit), // exactly at the limit: accepted, ignored
		"PING\xff\xfe",                        // invalid UTF-8
		strings.Repeat("[", 2000) + strings.Repeat("]", 2000), // deep JSON
	} {
		writeText(t, mallory, s)
	}
	// Mallory's connection still works and its frames were read in order.
	writeText(t, mallory, "PING")
	if got := readText(t, mallory); got != "PONG" {
		t.Fatalf("mallory got %q, want PONG", got)
	}
	if got := e.g.Stats().Ignored; got != 6 {
		t.Errorf("ignored = %d, want 6", got)
	}
	marker := newMessage(siteA, "users:marker", "marker", "users:victim")
	e.g.Deliver(marker, marker.PushJSON())
	if got := readText(t, victim); got != string(marker.PushJSON()) {
		t.Errorf("victim got %s, want the marker first", got)
	}
}

func TestBadInboundFramesClose(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		typ    websocket.MessageType
		size   int
		code   websocket.StatusCode
		reason DisconnectReason
	}{
		{"binary", websocket.MessageBinary, 4, protocol.CloseUnsupportedData, DisconnectBinary},
		{"over read limit", websocket.MessageText, DefaultReadLimit + 1, protocol.CloseTooBig, DisconnectTooBig},
		{"far over read limit", websocket.MessageText, 1 << 20, protocol.CloseTooBig, DisconnectTooBig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{})
			c := e.connect(t, siteA, "users:alice")
			ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
			defer cancel()
			// A write larger than the server's read limit may fail when the
			// server closes mid-frame; what matters is the close code.
			_ = c.Write(ctx, tt.typ, make([]byte, tt.size))
			expectClose(t, c, tt.code, "")
			poll.Until(t, "condition", func() bool { return e.g.Count() == 0 })
			if got := e.g.Stats().Disconnects[tt.reason]; got != 1 {
				t.Errorf("disconnects[%s] = %d, want 1", tt.reason, got)
			}
		})
	}
}

func TestReadLimitConfigurable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{cfg: Config{ReadLimit: 8}})
	c := e.connect(t, siteA, "users:alice")
	writeText(t, c, "12345678") // at the limit
	writeText(t, c, "PING")
	if got := readText(t, c); got != "PONG" {
		t.Fatalf("got %q, want PONG", got)
	}
	writeText(t, c, "123456789")
	expectClose(t, c, protocol.CloseTooBig, "")
}
