package wsgateway

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/protocol"
)

// dialAs attempts one handshake as sub on site A with extra headers.
func (e *testEnv) dialAs(tb testing.TB, sub string, header http.Header) (*websocket.Conn, *http.Response, error) {
	tb.Helper()
	return e.dial(tb, dialOptions{
		query:        "host=" + siteA,
		subprotocols: []string{protocol.SubProtocol, mint(tb, sub, time.Hour)},
		header:       header,
	})
}

// wantRefused checks that a handshake was refused with status.
func wantRefused(tb testing.TB, resp *http.Response, err error, status int) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("upgrade succeeded, want %d", status)
	}
	if resp == nil || resp.StatusCode != status {
		tb.Fatalf("response %v (%v), want status %d", resp, err, status)
	}
}

// principalSlots is how many slots principal p holds.
func (e *testEnv) principalSlots(p string) int {
	e.g.hub.mu.RLock()
	defer e.g.hub.mu.RUnlock()
	return e.g.hub.admits.perPrincipal[p]
}

func TestMaxConnectionsPerPrincipal(t *testing.T) {
	t.Parallel()
	const limit = 3
	e := newEnv(t, envOptions{cfg: Config{MaxConnectionsPerPrincipal: limit}})
	var alice []*websocket.Conn
	for range limit {
		alice = append(alice, e.connect(t, siteA, "users:alice"))
	}
	_, resp, err := e.dialAs(t, "users:alice", nil)
	wantRefused(t, resp, err, http.StatusTooManyRequests)
	e.connect(t, siteA, "users:bob") // others are not affected
	if got := e.g.Stats().Rejected[RejectPrincipalLimit]; got != 1 {
		t.Errorf("rejected[principal_limit] = %d, want 1", got)
	}
	// A closed connection frees its slot.
	alice[0].Close(websocket.StatusNormalClosure, "")
	poll.Until(t, "condition", func() bool { return e.principalSlots("users:alice") == limit-1 })
	e.connect(t, siteA, "users:alice")
	if n := e.principalSlots("users:alice"); n != limit {
		t.Errorf("alice holds %d slots, want %d", n, limit)
	}
}

func TestMaxConnections(t *testing.T) {
	t.Parallel()
	const limit = 3
	e := newEnv(t, envOptions{cfg: Config{MaxConnections: limit}})
	var conns []*websocket.Conn
	for i := range limit {
		conns = append(conns, e.connect(t, siteA, fmt.Sprintf("users:%d", i)))
	}
	_, resp, err := e.dialAs(t, "users:other", nil)
	wantRefused(t, resp, err, http.StatusServiceUnavailable)
	if got := e.g.Stats().Rejected[RejectCapacity]; got != 1 {
		t.Errorf("rejected[capacity] = %d, want 1", got)
	}
	conns[0].Close(websocket.StatusNormalClosure, "")
	poll.Until(t, "condition", func() bool {
		e.g.hub.mu.RLock()
		defer e.g.hub.mu.RUnlock()
		return e.g.hub.admits.total == limit-1
	})
	e.connect(t, siteA, "users:other")
}

// TestLimitsDisabled: negative limits let everything through.
func TestLimitsDisabled(t *testing.T) {
	t.Parallel()
	const n = 40 // over the default burst of 20, with one address
	e := newEnv(t, envOptions{cfg: Config{MaxConnections: -1, MaxConnectionsPerPrincipal: -1, ConnectRate: -1}})
	for range n {
		e.connect(t, siteA, "users:alice")
	}
	if got := e.g.Count(); got != n {
		t.Errorf("Count = %d, want %d", got, n)
	}
}

// TestConcurrentHandshakesRespectLimits: slots are reserved atomically, so
// simultaneous handshakes never overshoot the limit.
func TestConcurrentHandshakesRespectLimits(t *testing.T) {
	t.Parallel()
	const limit, tries = 4, 16
	e := newEnv(t, envOptions{cfg: Config{MaxConnectionsPerPrincipal: limit, ConnectRate: -1}})
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, refused := 0, 0
	token := mint(t, "users:alice", time.Hour)
	for range tries {
		wg.Go(func() {
			_, resp, err := e.dial(t, dialOptions{query: "host=" + siteA, subprotocols: []string{protocol.SubProtocol, token}})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case resp != nil && resp.StatusCode == http.StatusTooManyRequests:
				refused++
			default:
				t.Errorf("dial: %v", err)
			}
		})
	}
	wg.Wait()
	if ok != limit || refused != tries-limit {
		t.Errorf("%d upgraded, %d refused; want %d, %d", ok, refused, limit, tries-limit)
	}
}

// fakeClock is a settable Config.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestConnectRatePerAddress(t *testing.T) {
	t.Parallel()
	const burst = 3
	clock := &fakeClock{t: time.Now()}
	e := newEnv(t, envOptions{cfg: Config{
		ConnectRate: 1, ConnectBurst: burst, ClientIPHeader: "X-Forwarded-For", Now: clock.now,
	}})
	from := func(xff ...string) http.Header { return http.Header{"X-Forwarded-For": xff} }
	for i := range burst {
		// The client may forge the left part; the proxy's entry is the last.
		if _, _, err := e.dialAs(t, "users:alice", from(fmt.Sprintf("10.0.0.%d, 203.0.113.7", i))); err != nil {
			t.Fatalf("dial %d within the burst: %v", i, err)
		}
	}
	_, resp, err := e.dialAs(t, "users:alice", from("10.9.9.9", "203.0.113.7"))
	wantRefused(t, resp, err, http.StatusTooManyRequests)
	if got := resp.Header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q, want 1", got)
	}
	// Another address has its own bucket; the TCP peer is not used.
	if _, _, err := e.dialAs(t, "users:alice", from("203.0.113.8")); err != nil {
		t.Fatalf("other address: %v", err)
	}
	// One second refills one token at 1/s.
	clock.add(time.Second)
	if _, _, err := e.dialAs(t, "users:alice", from("203.0.113.7")); err != nil {
		t.Fatalf("after refill: %v", err)
	}
	_, resp, err = e.dialAs(t, "users:alice", from("203.0.113.7"))
	wantRefused(t, resp, err, http.StatusTooManyRequests)
	if got := e.g.Stats().Rejected[RejectRate]; got != 2 {
		t.Errorf("rejected[rate] = %d, want 2", got)
	}
}

// TestConnectRateTCPPeer: without ClientIPHeader the peer address counts and
// a forged X-Forwarded-For is ignored.
func TestConnectRateTCPPeer(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Now()}
	e := newEnv(t, envOptions{cfg: Config{ConnectRate: 1, ConnectBurst: 1, Now: clock.now}})
	if _, _, err := e.dialAs(t, "users:alice", http.Header{"X-Forwarded-For": {"203.0.113.1"}}); err != nil {
		t.Fatalf("first dial: %v", err)
	}
	_, resp, err := e.dialAs(t, "users:alice", http.Header{"X-Forwarded-For": {"203.0.113.2"}})
	wantRefused(t, resp, err, http.StatusTooManyRequests)
}
