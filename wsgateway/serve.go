package wsgateway

import (
	"context"
	"sync"
	"time"
)

// slowWarnEvery rate-limits the Warn logged for slow consumers and for an
// unavailable Authenticator.
const slowWarnEvery = time.Second

// serve runs an authenticated connection until it ends: the calling
// goroutine reads, one goroutine writes, one pings. It returns after joining
// both; c.req then holds the reason the connection ended.
func (g *Gateway) serve(ctx context.Context, c *conn) {
	var wg sync.WaitGroup
	wg.Go(func() { g.writeLoop(ctx, c) })
	if g.cfg.PingInterval > 0 {
		wg.Go(func() { g.pingLoop(ctx, c) })
	}
	g.readLoop(ctx, c)
	wg.Wait()
}
