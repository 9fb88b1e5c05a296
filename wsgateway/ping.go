package wsgateway

import (
	"context"
	"sync"
	"time"
)

// pinger pings a connection every PingInterval; a pong must arrive before
// the next ping is due, otherwise the peer is presumed dead and the
// connection is dropped. No goroutine waits between pings: a timer starts
// one for each round trip (issue 9: an idle connection holds no pinger
// stack), apart from the writer so that a round trip never delays queued
// messages. One allocation holds its state.
type pinger struct {
	c       *conn
	mu      sync.Mutex
	stopped bool        // guarded by mu
	t       *time.Timer // guarded by mu
	inPing  sync.WaitGroup
}

// startPings starts pinging c; the pinger's stop ends the pings.
func (c *conn) startPings() *pinger {
	p := &pinger{c: c}
	p.mu.Lock()
	p.t = time.AfterFunc(c.env.pingInterval, p.ping)
	p.mu.Unlock()
	return p
}

// ping is one round trip, in the timer's goroutine.
func (p *pinger) ping() {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return
	}
	p.inPing.Add(1)
	p.mu.Unlock()
	defer p.inPing.Done()
	c := p.c
	// Not derived from a context of the connection's: closing the socket
	// ends a round trip in progress (see conn.run).
	pctx, cancel := context.WithTimeout(context.Background(), c.env.pingInterval)
	err := c.ws.Ping(pctx)
	cancel()
	if err != nil {
		c.stop(stopPing) // no effect when the connection was already closing
		return
	}
	p.mu.Lock()
	if !p.stopped {
		p.t.Reset(c.env.pingInterval)
	}
	p.mu.Unlock()
}

// stop ends the pings and waits for a round trip in progress.
func (p *pinger) stop() {
	p.mu.Lock()
	p.stopped = true
	p.t.Stop()
	p.mu.Unlock()
	p.inPing.Wait()
}
