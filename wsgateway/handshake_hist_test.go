package wsgateway

import (
	"net/http"
	"testing"

	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/protocol"
)

// Every handshake lands in one of the two histograms: an admitted
// connection in HandshakeAccepted, an HTTP refusal and a refused upgraded
// socket in HandshakeRefused, each observation once, as the counters count.
func TestHandshakeDurations(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{allowed: []string{siteA}})
	e.connect(t, siteA, "users:alice")
	if _, resp, err := e.dial(t, dialOptions{query: "host=" + siteA, origin: "https://evil.example"}); err == nil {
		t.Fatal("dial from a refused origin succeeded")
	} else if resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("refused origin: %v, %v", resp, err)
	}
	if _, _, err := e.dial(t, dialOptions{query: "host=" + siteA, subprotocols: []string{protocol.SubProtocol, "not-a-jwt"}}); err != nil {
		t.Fatalf("dial with a bad token: %v", err) // upgraded, then refused over the socket
	}
	poll.Until(t, "both refusals recorded", func() bool { return e.g.Stats().HandshakeRefused.Count == 2 })
	s := e.g.Stats()
	if s.HandshakeAccepted.Count != s.Accepted || s.Accepted != 1 {
		t.Errorf("HandshakeAccepted.Count = %d, Accepted = %d, want 1 and 1", s.HandshakeAccepted.Count, s.Accepted)
	}
	var rejected uint64
	for _, n := range s.Rejected {
		rejected += n
	}
	if rejected != s.HandshakeRefused.Count {
		t.Errorf("Rejected = %d, HandshakeRefused.Count = %d: want equal", rejected, s.HandshakeRefused.Count)
	}
}
