package wsgateway

import (
	"context"
	"sync"
	"time"
)

// startPings pings c every PingInterval; a pong must arrive before the next
// ping is due, otherwise the peer is presumed dead and c is dropped. No
// goroutine waits between pings: a timer starts one for each round trip
// (issue 9: an idle connection holds no pinger stack), apart from the
// writer so that a round trip never delays queued messages. The returned
// stop ends the pings and waits for a round trip in progress.
func (c *conn) startPings(ctx context.Context) (stop func()) {
	var (
		mu      sync.Mutex
		stopped bool // guarded by mu
		inPing  sync.WaitGroup
		t       *time.Timer
	)
	ping := func() {
		mu.Lock()
		if stopped {
			mu.Unlock()
			return
		}
		inPing.Add(1)
		mu.Unlock()
		defer inPing.Done()
		pctx, cancel := context.WithTimeout(ctx, c.env.pingInterval)
		err := c.ws.Ping(pctx)
		cancel()
		if err != nil {
			c.stop(stopPing) // no effect when the connection was already closing
			return
		}
		mu.Lock()
		if !stopped {
			t.Reset(c.env.pingInterval)
		}
		mu.Unlock()
	}
	mu.Lock()
	t = time.AfterFunc(c.env.pingInterval, ping)
	mu.Unlock()
	return func() {
		mu.Lock()
		stopped = true
		t.Stop()
		mu.Unlock()
		inPing.Wait()
	}
}
