package wsgateway

import (
	"context"
	"fmt"
	"time"
)

// Shutdown refuses new upgrades, closes every connection with
// protocol.CloseGoingAway (the closes are spread uniformly over
// Config.ShutdownSpread, so browsers do not all reconnect at once), and waits
// until every ServeHTTP call, every catch-up history read they started and
// every recount after a retract has returned. If ctx ends first, the remaining sockets are closed without a
// handshake and Shutdown returns ctx's error once they are joined. It is
// idempotent: later calls wait the same way.
//
// http.Server.Shutdown does not close hijacked websockets; call this after it.
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.shutOnce.Do(func() {
		conns := g.calls.close()
		g.cfg.Logger.Info("wsgateway: shutting down", "connections", len(conns), "spread", g.cfg.ShutdownSpread)
		go func() { // owned by Shutdown; ends when every ServeHTTP has returned
			g.calls.wait()
			if g.recounts != nil {
				g.recounts.close()
			}
			if g.reads != nil {
				// Every waiter has left: each read is done or cancelled.
				g.reads.wg.Wait()
			}
			close(g.drained)
		}()
		g.spreadCloses(ctx, conns)
	})
	select {
	case <-g.drained:
		return nil
	case <-ctx.Done():
	}
	// Forced: whatever has not finished its close handshake is cut now.
	// Conns not signalled yet still get their reason recorded.
	for _, c := range g.calls.all() {
		c.stop(stopShutdown)
		if c.sse {
			_ = c.raw.Close()
		} else {
			_ = c.ws.CloseNow()
		}
	}
	<-g.drained
	return fmt.Errorf("wsgateway: shutdown: %w", ctx.Err())
}

// spreadCloses signals conns to close with protocol.CloseGoingAway, the i-th
// at start + spread*i/n. Signalling only wakes each connection's writer, so this
// one goroutine paces the closes and bounds how many start at a time.
func (g *Gateway) spreadCloses(ctx context.Context, conns []*conn) {
	spread := max(g.cfg.ShutdownSpread, 0)
	start := time.Now()
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for i, c := range conns {
		due := start.Add(spread * time.Duration(i) / time.Duration(len(conns)))
		// Waits shorter than a millisecond are not worth a timer.
		if d := time.Until(due); d >= time.Millisecond {
			if timer == nil {
				timer = time.NewTimer(d)
			} else {
				timer.Reset(d)
			}
			select {
			case <-timer.C:
			case <-ctx.Done():
				return // Shutdown forces the rest
			}
		}
		c.stop(stopShutdown)
	}
}
