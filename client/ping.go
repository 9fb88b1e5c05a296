package client

import (
	"context"
	"time"

	"github.com/coder/websocket"
	"github.com/notifyd/notifyd/protocol"
)

// pingLoop sends "PING" at once and then every PingInterval, drops the
// connection when a PING stays unanswered for PongTimeout, writes the acks
// the reader offers, and closes the connection with 1000 when ctx ends
// (after the last ack). It returns when the reader is done.
func (c *Client) pingLoop(ctx context.Context, cn *conn) {
	var tick <-chan time.Time
	if c.cfg.PingInterval > 0 {
		t := time.NewTicker(c.cfg.PingInterval)
		defer t.Stop()
		tick = t.C
	}
	var deadline *time.Timer // armed while a PING is unanswered
	defer func() {
		if deadline != nil {
			deadline.Stop()
		}
	}()
	var expired <-chan time.Time
	ping := func() bool {
		wctx, cancel := context.WithTimeout(context.Background(), c.cfg.WriteTimeout)
		defer cancel()
		if err := cn.ws.Write(wctx, websocket.MessageText, []byte(protocol.Ping)); err != nil {
			return false // the reader sees the failure
		}
		if c.cfg.PongTimeout > 0 && expired == nil {
			if deadline == nil {
				deadline = time.NewTimer(c.cfg.PongTimeout)
			} else {
				deadline.Reset(c.cfg.PongTimeout)
			}
			expired = deadline.C
		}
		return true
	}
	if !ping() {
		return
	}
	for {
		select {
		case <-cn.done:
			return
		case <-ctx.Done():
			c.writeAck(cn)
			// Close waits (bounded by the library) for the gateway's close
			// frame, which the reader consumes.
			_ = cn.ws.Close(websocket.StatusNormalClosure, "client closing")
			return
		case <-cn.pong:
			if deadline != nil {
				deadline.Stop()
			}
			expired = nil
		case <-expired:
			cn.pongTimeout.Store(true)
			_ = cn.ws.CloseNow()
			return
		case <-cn.ackWake:
			if !c.writeAck(cn) {
				return
			}
		case <-tick:
			if !ping() {
				return
			}
		}
	}
}
