package client

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/coder/websocket"
	"github.com/notifyd/notifyd/protocol"
)

// Commands travel on the live connection: the one whose first PONG arrived
// and whose spaces were resubscribed. A command gets a fresh rid, waits for
// a live connection (bounded by its ctx), registers a handler for its rid
// on that connection, writes its frame and waits for the answer, which
// Run's goroutine hands over. When the connection ends first, the command
// fails with ErrConnectionLost.

// liveConn waits for a live connection.
func (c *Client) liveConn(ctx context.Context) (*conn, error) {
	for {
		c.mu.Lock()
		cn, ready := c.live, c.ready
		c.mu.Unlock()
		if cn != nil {
			return cn, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-ready:
		}
	}
}

// goLive makes cn the connection commands use and reports it connected.
// Run's goroutine only.
func (c *Client) goLive(cn *conn) {
	c.mu.Lock()
	c.live = cn
	close(c.ready)
	c.mu.Unlock()
	if c.cfg.OnConnect != nil {
		c.emit(func() { c.cfg.OnConnect(cn.url) })
	}
}

// drop ends cn for commands: it is no longer live, and no handler may
// register on it. The commands waiting on it see cn.done next.
func (c *Client) drop(cn *conn) {
	c.mu.Lock()
	if c.live == cn {
		c.live = nil
		c.ready = make(chan struct{})
	}
	c.mu.Unlock()
	cn.mu.Lock()
	cn.ended = true
	clear(cn.pending)
	cn.mu.Unlock()
}

// expect registers h for the answer to rid; false when cn has ended.
func (cn *conn) expect(rid string, h func(reply)) bool {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if cn.ended {
		return false
	}
	cn.pending[rid] = h
	return true
}

func (cn *conn) forget(rid string) {
	cn.mu.Lock()
	delete(cn.pending, rid)
	cn.mu.Unlock()
}

// answered hands an answer to the command waiting for it. Run's goroutine.
func (c *Client) answered(cn *conn, rid string, a reply) {
	cn.mu.Lock()
	h := cn.pending[rid]
	delete(cn.pending, rid)
	cn.mu.Unlock()
	if a.code != "" {
		c.stats.commandErrs.Add(1)
	}
	if h == nil {
		c.cfg.Logger.Debug("client: answer to no command", "rid", rid)
		return
	}
	h(a)
}

// write sends one command frame on cn. The write has its own deadline: a
// write whose context ends closes the socket, and a caller's ctx must not.
func (c *Client) write(cn *conn, cmd protocol.Command) error {
	data, err := json.Marshal(cmd)
	if err != nil {
		return fmt.Errorf("client: %s: %w", cmd.Action, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.WriteTimeout)
	defer cancel()
	c.stats.commands.Add(1)
	if err := cn.ws.Write(ctx, websocket.MessageText, data); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrConnectionLost, cmd.Action, err)
	}
	return nil
}

func (c *Client) nextRID() string { return strconv.FormatUint(c.rid.Add(1), 36) }

// command sends cmd on the live connection and returns its OK answer, a
// *CommandError, ErrConnectionLost (wrapped) or ctx's error.
func (c *Client) command(ctx context.Context, cmd protocol.Command) (protocol.OK, error) {
	cn, err := c.liveConn(ctx)
	if err != nil {
		return protocol.OK{}, err
	}
	return c.commandOn(ctx, cn, cmd)
}

func (c *Client) commandOn(ctx context.Context, cn *conn, cmd protocol.Command) (protocol.OK, error) {
	cmd.RID = c.nextRID()
	got := make(chan reply, 1)
	if !cn.expect(cmd.RID, func(a reply) { got <- a }) {
		return protocol.OK{}, fmt.Errorf("%w: %s", ErrConnectionLost, cmd.Action)
	}
	defer cn.forget(cmd.RID)
	if err := c.write(cn, cmd); err != nil {
		// The socket is closed: wait for the reader to see it, so that a
		// caller that tries again finds the next connection, not this one.
		select {
		case <-cn.done:
		case <-ctx.Done():
		}
		return protocol.OK{}, err
	}
	var a reply
	select {
	case a = <-got:
	case <-ctx.Done():
		return protocol.OK{}, ctx.Err()
	case <-cn.done:
		select {
		case a = <-got: // answered just before the end
		default:
			return protocol.OK{}, fmt.Errorf("%w: %s", ErrConnectionLost, cmd.Action)
		}
	}
	if a.code != "" {
		return protocol.OK{}, &CommandError{Action: cmd.Action, Code: a.code, Message: a.message}
	}
	return a.ok, nil
}
