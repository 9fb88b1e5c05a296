package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/notifyd/notifyd/auth"
)

// The attack fault runs, against gateway 1 and while the fleet keeps
// receiving, what an outside attacker does to hold a gateway's sockets:
//
//   - slow bodies: anonymous requests that announce a body and never send it,
//     from one address (127.0.0.2), more of them than the per-address
//     connection cap;
//   - a tokenless upgrade flood: websocket handshakes without a token from
//     many addresses, each under the per-address connect rate, that never
//     answer the server's close;
//
// and, all the while, probes of a real user: a fresh websocket handshake
// (PING answered by PONG) and a REST history read, several times a second.
// Every probe must be served, every slow socket must be let go, and the
// gateway's session count must come back to the fleet's.
const (
	attackAddr        = "127.0.0.2" // the slow-body attacker's source address
	attackFloodAddrs  = 40          // addresses of the upgrade flood
	attackFloodRate   = 4           // upgrades per second per address (the limit is 5)
	attackProbeEvery  = 100 * time.Millisecond
	attackReadTimeout = time.Second // NOTIFYD_HTTP_READ_TIMEOUT of the chaos gateways
)

// attackCap is the per-address connection cap of the chaos gateways. All
// the run's own traffic reaches them from 127.0.0.1, as from a proxy: the
// fleet, its REST calls, the probes, and the upgrade flood (up to
// attackFloodAddrs*attackFloodRate refused sockets, each held at most a
// second). The slow-body attacker comes from attackAddr and meets the cap.
func attackCap(clients int) int { return 2*clients + attackFloodAddrs*attackFloodRate + 150 }

// attackState is what the attack fault found.
type attackState struct {
	slow          []net.Conn
	slowOpened    int
	floodDialled  atomic.Int64
	floodHeld     []*websocket.Conn
	floodMu       sync.Mutex
	probesWS      atomic.Int64
	probesWSFail  atomic.Int64
	probesAPI     atomic.Int64
	probesAPIFail atomic.Int64
	firstFailure  atomic.Value // string
}

func (a *attackState) fail(format string, args ...any) {
	a.firstFailure.CompareAndSwap(nil, fmt.Sprintf(format, args...))
}

// attackInject runs the attack for half a phase and then lets go of what the
// attacker holds.
func attackInject(ctx context.Context, c *chaos, ph *phase) error {
	a := &attackState{}
	ph.attack = a
	g := c.gws[0]
	ph.injected = time.Now()
	actx, stop := context.WithTimeout(ctx, c.opts.phaseDuration/2)
	defer stop()

	a.openSlowBodies(actx, g, attackCap(c.opts.clients)+100)
	var wg sync.WaitGroup
	for i := range attackFloodAddrs {
		wg.Go(func() { a.flood(actx, c, fmt.Sprintf("10.254.%d.%d", i>>8, i&255)) })
	}
	wg.Go(func() { a.probe(actx, c) })
	wg.Wait()
	ph.restored = time.Now()

	// The gateway must let go of every slow socket by itself (read deadline)
	// and of every refused upgrade: the attacker never closes them.
	err := poll(ctx, 10*attackReadTimeout, func() bool { return a.slowClosedByServer() == len(a.slow) },
		"slow bodies let go")
	held := len(a.slow) - a.slowClosedByServer()
	for _, s := range a.slow {
		_ = s.Close()
	}
	a.floodMu.Lock()
	for _, ws := range a.floodHeld {
		_ = ws.CloseNow()
	}
	a.floodMu.Unlock()
	if err != nil {
		return fmt.Errorf("gateway1 still holds %d of %d slow-body sockets", held, len(a.slow))
	}
	return nil
}

// openSlowBodies opens n connections from attackAddr, each sending the
// headers of a request with a 1000-byte body, and no body.
func (a *attackState) openSlowBodies(ctx context.Context, g *gateway, n int) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(attackAddr)}, Timeout: 2 * time.Second}
	for i := range n {
		conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", fmt.Sprint(g.port)))
		if err != nil {
			continue
		}
		req := "GET /api/chat/notifications HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"
		if i%2 == 1 {
			req = "POST /api/chat/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"
		}
		if _, err := io.WriteString(conn, req); err != nil {
			_ = conn.Close()
			continue
		}
		a.slow = append(a.slow, conn)
	}
	a.slowOpened = len(a.slow)
}

// slowClosedByServer counts the slow sockets the gateway closed (a read
// ends at once with EOF, a reset, or after a response). It drains what the
// server sent.
func (a *attackState) slowClosedByServer() int {
	n := 0
	buf := make([]byte, 4096)
	for _, s := range a.slow {
		_ = s.SetReadDeadline(time.Now().Add(time.Millisecond))
		for {
			_, err := s.Read(buf)
			if err == nil {
				continue
			}
			if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
				n++
			}
			break
		}
	}
	return n
}

// flood dials tokenless upgrades as addr at attackFloodRate per second and
// never reads: the logout frame and the close are left unanswered.
func (a *attackState) flood(ctx context.Context, c *chaos, addr string) {
	tick := time.NewTicker(time.Second / attackFloodRate)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		a.floodDialled.Add(1)
		dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		ws, _, err := websocket.Dial(dctx, c.gws[0].wsURL(), &websocket.DialOptions{
			HTTPClient: c.wsHTTP,
			HTTPHeader: http.Header{"Origin": {c.site}, "X-Forwarded-For": {addr}},
		})
		cancel()
		if err == nil {
			a.floodMu.Lock()
			a.floodHeld = append(a.floodHeld, ws)
			a.floodMu.Unlock()
		}
	}
}

// probe is a real user: a websocket handshake answered by PONG and a REST
// history read, every attackProbeEvery, each from an address of its own so
// the connect rate limit never refuses it.
func (a *attackState) probe(ctx context.Context, c *chaos) {
	tok, err := auth.Mint(c.secret, "users:probe", "", nil, time.Now(), time.Hour)
	if err != nil {
		a.fail("mint: %v", err)
		return
	}
	tick := time.NewTicker(attackProbeEvery)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		a.probesWS.Add(1)
		if err := probeWS(c, tok, fmt.Sprintf("10.253.%d.%d", (i>>8)&255, i&255)); err != nil {
			a.probesWSFail.Add(1)
			a.fail("websocket probe: %v", err)
		}
		a.probesAPI.Add(1)
		if err := probeAPI(c, tok); err != nil {
			a.probesAPIFail.Add(1)
			a.fail("REST probe: %v", err)
		}
	}
}

func probeWS(c *chaos, tok, addr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, c.gws[0].wsURL(), &websocket.DialOptions{
		HTTPClient:   c.wsHTTP,
		HTTPHeader:   http.Header{"Origin": {c.site}, "X-Forwarded-For": {addr}},
		Subprotocols: []string{auth.SubProtocol, tok},
	})
	if err != nil {
		return err
	}
	defer ws.CloseNow()
	if err := ws.Write(ctx, websocket.MessageText, []byte("PING")); err != nil {
		return err
	}
	// Broadcasts the run publishes may reach the probe first: skip them.
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			return fmt.Errorf("want PONG: %w", err)
		}
		if string(data) == "PONG" {
			return ws.Close(websocket.StatusNormalClosure, "")
		}
	}
}

func probeAPI(c *chaos, tok string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.gws[0].base()+"/api/chat/notifications?limit=5", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Origin", c.site)
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// attackFinish reports what the attack did and what real users saw, and
// checks that gateway 1's sessions came back to what the fleet and the chat hold.
func attackFinish(ctx context.Context, c *chaos, ph *phase) {
	a := ph.attack
	if a == nil {
		return
	}
	refused, _ := c.gws[0].metric(ctx, c.hc, "notifyd_http_conns_refused_total")
	ph.note("slow bodies: %d sockets from one address, all let go by gateway1 (%s closed at accept by the per-address cap, the rest by the read deadline)",
		a.slowOpened, refused)
	ph.note("tokenless upgrades: %d from %d addresses at %d/s each", a.floodDialled.Load(), attackFloodAddrs, attackFloodRate)
	ph.note("probes served: websocket %d/%d, REST %d/%d",
		a.probesWS.Load()-a.probesWSFail.Load(), a.probesWS.Load(), a.probesAPI.Load()-a.probesAPIFail.Load(), a.probesAPI.Load())
	if f, ok := a.firstFailure.Load().(string); ok {
		ph.problem("real users were refused during the attack (first: %s)", f)
	}
	// The fleet's and the chat users' websockets on gateway 1.
	want := func() int {
		n := c.fleet.perGateway()[0]
		if c.chat != nil {
			n += c.chat.perGateway()[0]
		}
		return n
	}
	if err := poll(ctx, 10*time.Second, func() bool {
		n, err := c.gws[0].sessions(ctx, c.hc)
		return err == nil && n == want()
	}, "sessions back to the fleet's"); err != nil {
		n, _ := c.gws[0].sessions(ctx, c.hc)
		ph.problem("gateway1 counts %d sessions after the attack, the fleet and the chat hold %d", n, want())
	}
}
