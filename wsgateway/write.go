package wsgateway

import (
	"context"
	"errors"
	"time"

	"github.com/coder/websocket"
	"github.com/notifyd/notifyd/protocol"
)

// writeLoop is the only goroutine that writes data frames to c. It first
// replays history when the client asked for it (see replay), then sends
// queued frames, each within WriteTimeout, skipping messages the replay
// covered; it ends the connection when its token expires, and performs the
// close once c is stopped.
func (g *Gateway) writeLoop(ctx context.Context, c *conn) {
	var expired <-chan time.Time
	if !c.expires.IsZero() {
		t := time.NewTimer(c.expires.Sub(g.cfg.Now()))
		defer t.Stop()
		expired = t.C
	}
	var seen idSet
	if c.catchUp {
		seen = g.replay(ctx, c)
	}
	for {
		// A requested close wins over queued frames: a slow consumer gets
		// its close code as soon as the current write is done.
		select {
		case <-c.closing:
			g.closeConn(ctx, c)
			return
		default:
		}
		select {
		case <-c.closing:
		case <-expired:
			c.stop(stopExpired)
		case <-c.readDone:
			c.stop(stopClient) // no effect when a reason was recorded
		case it := <-c.send:
			if seen.has(it.id) {
				g.stats.seamSkipped.Add(1)
				continue
			}
			g.writeFrame(ctx, c, it.b)
		}
	}
}

// writeFrame writes b and reports whether it was sent; a failed write stops
// c. The library closes the socket when a write fails or times out; there is
// nobody left to shake hands with.
func (g *Gateway) writeFrame(ctx context.Context, c *conn, b []byte) bool {
	err := g.write(ctx, c, b)
	switch {
	case err == nil:
		return true
	case errors.Is(err, context.DeadlineExceeded):
		c.stop(stopWrite)
	default:
		c.stop(stopClient) // the peer or the network went away
	}
	return false
}

// write sends one text frame within WriteTimeout.
func (g *Gateway) write(ctx context.Context, c *conn, b []byte) error {
	ctx, cancel := context.WithTimeout(ctx, g.cfg.WriteTimeout)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageText, b)
}

// closeConn ends the socket as c.req says: with a close handshake and code
// (after the logout frame when asked), or at once when the peer is gone.
// Close waits for the peer's close frame; Shutdown bounds that wait with
// its context by calling CloseNow.
func (g *Gateway) closeConn(ctx context.Context, c *conn) {
	req := c.req
	if req.code == 0 {
		_ = c.ws.CloseNow()
		return
	}
	if req.logout {
		if err := g.write(ctx, c, protocol.LogoutFrame); err != nil {
			_ = c.ws.CloseNow()
			return
		}
	}
	_ = c.ws.Close(req.code, req.text)
}
