package client

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/coder/websocket"
	"github.com/notifyd/notifyd/protocol"
)

// conn is one dialled connection as Run's goroutine and its pinger see it.
type conn struct {
	// immutable
	ws   *websocket.Conn
	url  string
	pong chan struct{} // the reader signals each PONG to the pinger (capacity 1)
	done chan struct{} // closed by the reader when it returns

	// set by the pinger before it closes the socket
	pongTimeout atomic.Bool

	// owned by Run's goroutine
	established bool
	loggedOut   bool // a logout frame arrived
}

// serve runs a dialled connection until it ends: Run's goroutine reads, one
// goroutine pings (and closes the socket when ctx ends). It joins the pinger
// before returning.
func (c *Client) serve(ctx context.Context, url string, ws *websocket.Conn) outcome {
	ws.SetReadLimit(c.cfg.ReadLimit)
	cn := &conn{ws: ws, url: url, pong: make(chan struct{}, 1), done: make(chan struct{})}
	var wg sync.WaitGroup
	wg.Go(func() { c.pingLoop(ctx, cn) })
	err := c.readLoop(cn)
	close(cn.done)
	wg.Wait()
	_ = ws.CloseNow() // no effect when already closed

	o := outcome{established: cn.established}
	code := websocket.CloseStatus(err)
	switch {
	case ctx.Err() != nil:
		return o
	case cn.pongTimeout.Load():
		err = ErrPongTimeout
	case code == protocol.CloseRevoked:
		err = fmt.Errorf("%w: %w", ErrRevoked, err)
		o.refresh = true
	case cn.loggedOut || code == protocol.CloseUnauthorized:
		err = fmt.Errorf("%w: %w", ErrTokenRefused, err)
		o.refresh = true
	case code == websocket.StatusGoingAway || code == protocol.CloseServiceRestart:
		o.move = true
	}
	if o.refresh {
		c.stats.refused.Add(1)
	}
	o.err = err
	c.stats.disconnects.Add(1)
	if c.cfg.OnDisconnect != nil {
		c.cfg.OnDisconnect(url, err)
	}
	return o
}

// readLoop reads frames until the connection fails and returns why. It reads
// with a context that ctx's end does not cancel, so that the pinger's close
// handshake can complete.
func (c *Client) readLoop(cn *conn) error {
	for {
		typ, data, err := cn.ws.Read(context.Background())
		if err != nil {
			return err
		}
		if typ != websocket.MessageText {
			c.stats.invalid.Add(1)
			continue
		}
		c.handle(cn, data)
	}
}

// handle acts on one text frame.
func (c *Client) handle(cn *conn, data []byte) {
	f := parseFrame(data)
	switch f.kind {
	case framePong:
		c.stats.pongs.Add(1)
		select {
		case cn.pong <- struct{}{}:
		default:
		}
		c.establish(cn)
	case frameLogout:
		cn.loggedOut = true // the gateway closes with 4001 next
	case frameGap:
		c.stats.gaps.Add(1)
		c.cfg.Logger.Warn("client: gap in replay, reload from REST history", "since", f.since)
		if c.cfg.OnGap != nil {
			c.cfg.OnGap(f.since)
		}
	case frameMessage:
		c.establish(cn)
		if id := f.msg.ID; id != "" {
			if !c.seen.add(id) {
				c.stats.duplicates.Add(1)
				return
			}
			c.lastID.Store(&id)
		}
		c.stats.messages.Add(1)
		if c.cfg.OnMessage != nil {
			c.cfg.OnMessage(f.msg, data)
		}
	default:
		c.stats.invalid.Add(1)
	}
}

// establish marks cn established on its first PONG or message.
func (c *Client) establish(cn *conn) {
	if cn.established {
		return
	}
	cn.established = true
	c.stats.connects.Add(1)
	c.cfg.Logger.Debug("client: connected", "url", cn.url)
	if c.cfg.OnConnect != nil {
		c.cfg.OnConnect(cn.url)
	}
}
