package client

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/coder/websocket"
	"github.com/notifyd/notifyd/protocol"
)

// conn is one dialled connection as Run's goroutine, its pinger and the
// goroutines sending commands see it.
type conn struct {
	// immutable
	ws      *websocket.Conn
	url     string
	pong    chan struct{} // the reader signals each PONG to the pinger (capacity 1)
	ackWake chan struct{} // the reader signals a pending ack to the pinger (capacity 1)
	done    chan struct{} // closed by the reader when it returns

	// set by the pinger before it closes the socket
	pongTimeout atomic.Bool

	// owned by Run's goroutine
	established bool
	loggedOut   bool // a logout frame arrived
	resubs      int  // resubscriptions not answered yet; the connection goes live at zero

	mu sync.Mutex
	// guarded by mu
	pending map[string]func(reply) // commands waiting for their answer, by rid
	ended   bool                   // the reader returned: no command may wait any more
	ack     string                 // the id to ack next; "" when none
}

// serve runs a dialled connection until it ends: Run's goroutine reads, one
// goroutine pings, writes acks (and closes the socket when ctx ends). It
// joins the pinger before returning.
func (c *Client) serve(ctx context.Context, url string, ws *websocket.Conn) outcome {
	ws.SetReadLimit(c.cfg.ReadLimit)
	cn := &conn{ws: ws, url: url, pong: make(chan struct{}, 1), ackWake: make(chan struct{}, 1),
		done: make(chan struct{}), pending: make(map[string]func(reply))}
	var wg sync.WaitGroup
	wg.Go(func() { c.pingLoop(ctx, cn) })
	err := c.readLoop(cn)
	c.drop(cn)
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
		c.emit(func() { c.cfg.OnDisconnect(url, err) })
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
			c.emit(func() { c.cfg.OnGap(f.since) })
		}
	case frameMessage:
		c.establish(cn)
		c.notification(cn, f, data)
	case frameAnswer:
		c.answered(cn, f.rid, f.answer)
	case frameInvalid:
		c.stats.invalid.Add(1)
	default:
		c.stats.events.Add(1)
		c.emit(func() { c.event(f, data) })
	}
}

// notification passes a notification to OnMessage once, moves the cursor
// and, once OnMessage returned, offers its id to the acks.
func (c *Client) notification(cn *conn, f frame, data []byte) {
	id := f.msg.ID
	if id != "" {
		if !c.seen.add(id) {
			c.stats.duplicates.Add(1)
			return
		}
		c.lastID.Store(&id)
	}
	c.stats.messages.Add(1)
	c.emit(func() {
		if c.cfg.OnMessage != nil {
			c.cfg.OnMessage(f.msg, data)
		}
		if id != "" && c.cfg.Device != "" {
			cn.offerAck(id) // handled: a connection that ended meanwhile ignores it
		}
	})
}

// event passes a frame that is neither a notification nor a control frame
// to its listener. The listeners' goroutine.
func (c *Client) event(f frame, data []byte) {
	cfg := &c.cfg
	switch f.kind {
	case frameInbox:
		if cfg.OnInbox != nil {
			cfg.OnInbox(f.counts)
		}
	case frameUpdate:
		if cfg.OnUpdate != nil {
			cfg.OnUpdate(f.msg, data)
		}
	case frameRetract:
		if cfg.OnRetract != nil {
			cfg.OnRetract(f.space, f.id)
		}
	case frameChat:
		if cfg.OnChat != nil {
			cfg.OnChat(f.chat)
		}
		if cb := c.subscriber(f.chat.Space); cb != nil {
			cb(f.chat)
		}
	case frameTyping:
		if cfg.OnTyping != nil {
			cfg.OnTyping(f.typing)
		}
	case frameReaction:
		if cfg.OnReaction != nil {
			cfg.OnReaction(f.reaction)
		}
	case frameActivity:
		if cfg.OnActivity != nil {
			cfg.OnActivity(f.activity)
		}
	case frameMember:
		if cfg.OnMember != nil {
			cfg.OnMember(f.member)
		}
	}
}

// establish marks cn established on its first PONG or message and
// resubscribes its spaces; the connection goes live when they are
// answered.
func (c *Client) establish(cn *conn) {
	if cn.established {
		return
	}
	cn.established = true
	c.stats.connects.Add(1)
	c.cfg.Logger.Debug("client: connected", "url", cn.url)
	c.resubscribe(cn)
}
