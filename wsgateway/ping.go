package wsgateway

import (
	"context"
	"sync"
	"time"
)

// periodic calls f every d from a timer: no goroutine waits between calls
// (issue 9: an idle connection holds no pinger or heartbeat stack), and a
// call runs apart from the writer, so that it never delays queued
// messages. The next call is d after one returns; none follows a call that
// reports false. One allocation holds its state.
type periodic struct {
	d       time.Duration
	f       func() bool
	mu      sync.Mutex
	stopped bool        // guarded by mu
	t       *time.Timer // guarded by mu
	running sync.WaitGroup
}

// startPeriodic starts calling f every d; with d <= 0 it calls nothing and
// returns nil, which stop accepts.
func startPeriodic(d time.Duration, f func() bool) *periodic {
	if d <= 0 {
		return nil
	}
	p := &periodic{d: d, f: f}
	p.mu.Lock()
	p.t = time.AfterFunc(d, p.call)
	p.mu.Unlock()
	return p
}

// call is one call of f, in the timer's goroutine.
func (p *periodic) call() {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return
	}
	p.running.Add(1)
	p.mu.Unlock()
	defer p.running.Done()
	if !p.f() {
		return
	}
	p.mu.Lock()
	if !p.stopped {
		p.t.Reset(p.d)
	}
	p.mu.Unlock()
}

// stop ends the calls and waits for one in progress.
func (p *periodic) stop() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.stopped = true
	p.t.Stop()
	p.mu.Unlock()
	p.running.Wait()
}

// startPings pings c every PingInterval (none when it is negative); a pong
// must arrive before the next ping is due, otherwise the peer is presumed
// dead and c is dropped.
func (c *conn) startPings() *periodic {
	return startPeriodic(c.env.pingInterval, c.pingOnce)
}

// pingOnce is one ping round trip; it stops c and reports false when no
// pong came in time. The timeout is not derived from a context of c's:
// closing the socket ends a round trip in progress (see conn.run).
func (c *conn) pingOnce() bool {
	pctx, cancel := context.WithTimeout(context.Background(), c.env.pingInterval)
	err := c.ws.Ping(pctx)
	cancel()
	if err != nil {
		c.stop(stopPing) // no effect when the connection was already closing
		return false
	}
	return true
}
