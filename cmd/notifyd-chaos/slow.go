package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/message"
)

const (
	slowPrincipal = "users:slow"
	slowPayload   = 48 << 10 // bytes of body per flood message
	slowMaxFlood  = 2000     // flood messages at most
	slowFloodRate = 200      // flood messages per second
)

// slowState is the slow-client fault's connection and findings.
type slowState struct {
	ws        *websocket.Conn
	transport *http.Transport
	logBefore int // matching gateway log lines before the flood
	sessions  int // gateway 1's session count before the flood, the slow client included
}

// slowPrepare connects a client on its own site (so its flood does not
// touch the tracked clients' history) with a tiny receive buffer, reads the
// PONG that proves it is registered, and then never reads again.
func slowPrepare(ctx context.Context, c *chaos, ph *phase) error {
	tok, err := auth.Mint(c.secret, slowPrincipal, "", nil, time.Now(), time.Hour)
	if err != nil {
		return err
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		return setRecvBuffer(rc, 4096)
	}}
	tr := &http.Transport{DialContext: dialer.DialContext}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(dctx, c.gws[0].wsURL(), &websocket.DialOptions{
		HTTPClient:   &http.Client{Transport: tr},
		HTTPHeader:   http.Header{"Origin": {c.slowSite}, "X-Forwarded-For": {"10.255.0.1"}},
		Subprotocols: []string{auth.SubProtocol, tok},
	})
	if err != nil {
		tr.CloseIdleConnections()
		return fmt.Errorf("slow client dial: %w", err)
	}
	ws.SetReadLimit(1 << 20)
	if err := ws.Write(dctx, websocket.MessageText, []byte("PING")); err != nil {
		return fmt.Errorf("slow client PING: %w", err)
	}
	// The inbox frame (badge counts) may come before the PONG.
	for {
		_, data, err := ws.Read(dctx)
		if err != nil {
			_ = ws.CloseNow()
			return fmt.Errorf("slow client: want PONG: %w", err)
		}
		if string(data) == "PONG" {
			break
		}
	}
	sessions, err := c.gws[0].sessions(ctx, c.hc)
	if err != nil {
		return err
	}
	ph.slow = &slowState{ws: ws, transport: tr, logBefore: slowLogLines(c), sessions: sessions}
	return nil
}

// cut reports whether gateway 1 dropped the slow client: it logged a
// slow-consumer disconnect (4000, queue overflow), or its session count fell
// (a write timeout, logged only at debug level, ends it too). Nothing else
// connects or disconnects during this phase.
func (s *slowState) cut(ctx context.Context, c *chaos) bool {
	if slowLogLines(c) > s.logBefore {
		return true
	}
	n, err := c.gws[0].sessions(ctx, c.hc)
	return err == nil && n < s.sessions
}

// slowLogLines counts the gateway log lines that report the slow client's
// disconnect as a slow consumer.
func slowLogLines(c *chaos) int {
	n := 0
	for _, line := range strings.Split(c.gws[0].logs(), "\n") {
		if strings.Contains(line, `"principal":"`+slowPrincipal+`"`) && strings.Contains(line, `"reason":"slow"`) {
			n++
		}
	}
	return n
}

// slowInject floods the slow client with large messages until the gateway
// reports it closed as a slow consumer.
func slowInject(ctx context.Context, c *chaos, ph *phase) error {
	s := ph.slow
	if s == nil {
		return fmt.Errorf("slow client not connected")
	}
	ph.injected = time.Now()
	body := strings.Repeat("x", slowPayload)
	tick := time.NewTicker(time.Second / slowFloodRate)
	defer tick.Stop()
	for n := 0; n < slowMaxFlood; n++ {
		if n%10 == 0 && s.cut(ctx, c) {
			ph.note("slow client cut after %v and %d × %d KiB", time.Since(ph.injected).Round(time.Millisecond),
				n, slowPayload>>10)
			return nil
		}
		payload := fmt.Sprintf(`{"host": %s, "channel": %s, "action": "notify", "category": "chaos.flood", "status": "info", "title": "flood %d", `+
			`"message": %q, "source": {"id": "users:backend", "title": "Chaos"}, "target": {"principals": [%q]}, `+
			`"timestamp": %q}`, quote(c.slowSite), quote(c.opts.channel), n, body, slowPrincipal, message.FormatTimestamp(time.Now()))
		if err := c.rdb.Publish(ctx, c.opts.channel, payload).Err(); err != nil {
			return fmt.Errorf("flood publish: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	err := poll(ctx, 15*time.Second, func() bool { return s.cut(ctx, c) }, "slow-client disconnect")
	if err != nil {
		return fmt.Errorf("slow client never disconnected after %d × %d KiB: %w", slowMaxFlood, slowPayload>>10, err)
	}
	ph.note("slow client cut after %v", time.Since(ph.injected).Round(time.Millisecond))
	return nil
}

// slowFinish reads what the slow client was sent, to see how its
// connection ended, and closes it.
func slowFinish(ctx context.Context, c *chaos, ph *phase) {
	s := ph.slow
	if s == nil {
		return
	}
	defer s.transport.CloseIdleConnections()
	defer s.ws.CloseNow()
	if slowLogLines(c) > s.logBefore {
		ph.note("gateway log: reason=slow code=4000 (queue overflow)")
	} else {
		ph.note("no slow-consumer log line: cut by the write timeout (logged at debug)")
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	frames := 0
	for {
		_, _, err := s.ws.Read(rctx)
		if err == nil {
			frames++
			continue
		}
		if code := websocket.CloseStatus(err); code != -1 {
			ph.note("the slow client read %d buffered frames, then close %d", frames, code)
		} else {
			ph.note("the slow client read %d buffered frames, then no close frame (%v)", frames, shortErr(err))
		}
		return
	}
}

func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
}
