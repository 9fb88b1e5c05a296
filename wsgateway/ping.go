package wsgateway

import (
	"context"
	"time"
)

// pingLoop pings c every PingInterval; a pong must arrive before the next
// ping is due, otherwise the peer is presumed dead and c is dropped. It runs
// apart from the writer so that a round trip never delays queued messages.
func (c *conn) pingLoop(ctx context.Context) {
	t := time.NewTicker(c.env.pingInterval)
	defer t.Stop()
	for {
		select {
		case <-c.closing:
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, c.env.pingInterval)
		err := c.ws.Ping(pctx)
		cancel()
		if err != nil {
			c.stop(stopPing) // no effect when the connection was already closing
			return
		}
	}
}
