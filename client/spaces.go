package client

import (
	"context"
	"errors"

	"github.com/notifyd/notifyd/protocol"
)

// subscription is a subscribed space: its callback, resubscribed on every
// connection until Unsubscribe.
type subscription struct {
	space string
	cb    func(protocol.SpaceMessage) // may be nil
}

// subscriber returns the callback of space's subscription, if any.
func (c *Client) subscriber(space string) func(protocol.SpaceMessage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.subs[space]; s != nil {
		return s.cb
	}
	return nil
}

// unsubscribed removes s unless it was replaced.
func (c *Client) unsubscribed(s *subscription) {
	c.mu.Lock()
	if c.subs[s.space] == s {
		delete(c.subs, s.space)
	}
	c.mu.Unlock()
}

// Subscribe makes this client receive space's events: message events go to
// cb (which may be nil) and Config.OnChat; typing, reactions, edits,
// retractions and membership go to their Config listeners. The
// subscription holds across reconnects: the client subscribes again on
// every new connection before any other command, and drops the
// subscription if the server then refuses it (the user left the space).
// cb runs on the listeners' goroutine, like the other listeners, and may
// call commands (a bot answers in it). Subscribing again
// to the same space replaces cb.
//
// Subscribe waits for a live connection and returns when the server has
// confirmed; a connection lost meanwhile is retried on the next one. It
// fails with ctx's error, or a *CommandError matching ErrNotFound (no such
// space, or the user is not a member) or ErrInvalid (over 100
// subscriptions on a connection); the subscription is then not kept.
func (c *Client) Subscribe(ctx context.Context, space string, cb func(protocol.SpaceMessage)) error {
	s := &subscription{space: space, cb: cb}
	c.mu.Lock()
	c.subs[space] = s
	c.mu.Unlock()
	for {
		_, err := c.command(ctx, protocol.Command{Action: protocol.ActionSubscribe, Space: space})
		if errors.Is(err, ErrConnectionLost) {
			continue // the next connection resubscribes it, or this loop does
		}
		if err != nil {
			c.unsubscribed(s)
		}
		return err
	}
}

// Unsubscribe stops the space's events (the user still gets activity
// events for it) and forgets its subscription. Without a live connection
// there is nothing to tell the server: the next connection simply does not
// subscribe.
func (c *Client) Unsubscribe(ctx context.Context, space string) error {
	c.mu.Lock()
	delete(c.subs, space)
	cn := c.live
	c.mu.Unlock()
	if cn == nil {
		return nil
	}
	_, err := c.commandOn(ctx, cn, protocol.Command{Action: protocol.ActionUnsubscribe, Space: space})
	if errors.Is(err, ErrConnectionLost) {
		return nil // its subscriptions ended with it
	}
	return err
}

// Send posts m to space (kind protocol.KindChat, KindPost or KindTask; a
// Thread to reply; Attachments as references) and returns the new message's
// id and timestamp. The sending connection does not get the message event
// of its own message; the sender's other connections do. Send is not
// retried: after ErrConnectionLost the message may have been stored.
func (c *Client) Send(ctx context.Context, space string, m protocol.Send) (Sent, error) {
	ok, err := c.command(ctx, protocol.Command{Action: protocol.ActionSend, Space: space, Send: m})
	return Sent{ID: ok.ID, Timestamp: ok.Timestamp}, err
}

// React adds (or, with remove, removes) the caller's emoji on a message and
// returns the emoji's new count. Subscribers get a reaction event.
func (c *Client) React(ctx context.Context, messageID, emoji string, remove bool) (int, error) {
	ok, err := c.command(ctx, protocol.Command{Action: protocol.ActionReact, Message: messageID, Emoji: emoji, Remove: remove})
	if err != nil || ok.Count == nil {
		return 0, err
	}
	return *ok.Count, nil
}

// Typing tells the space's other subscribers that the user is typing. The
// server allows 4 at once then one per 0.5 s per connection (ErrRateLimited
// beyond) and forwards at most one per user and space every 2 s.
func (c *Client) Typing(ctx context.Context, space string) error {
	_, err := c.command(ctx, protocol.Command{Action: protocol.ActionTyping, Space: space})
	return err
}

// Edit replaces the body of one of the user's own messages; subscribers
// get it with Action protocol.ActionUpdate.
func (c *Client) Edit(ctx context.Context, messageID, body string) error {
	_, err := c.command(ctx, protocol.Command{Action: protocol.ActionEdit, Message: messageID, Send: protocol.Send{Body: body}})
	return err
}

// Delete retracts one of the user's own messages (any, for a moderator);
// subscribers get OnRetract.
func (c *Client) Delete(ctx context.Context, messageID string) error {
	_, err := c.command(ctx, protocol.Command{Action: protocol.ActionDelete, Message: messageID})
	return err
}

// Read moves the user's read cursor of space to until, a message id.
func (c *Client) Read(ctx context.Context, space, until string) error {
	_, err := c.command(ctx, protocol.Command{Action: protocol.ActionRead, Space: space, Until: until})
	return err
}

// resubscribe subscribes cn to every subscribed space, writing from Run's
// goroutine (the answers come back to it), and makes cn live once every
// answer arrived; at once when there is none. A refused space is dropped.
func (c *Client) resubscribe(cn *conn) {
	c.mu.Lock()
	subs := make([]*subscription, 0, len(c.subs))
	for _, s := range c.subs {
		subs = append(subs, s)
	}
	c.mu.Unlock()
	for _, s := range subs {
		cmd := protocol.Command{Action: protocol.ActionSubscribe, RID: c.nextRID(), Space: s.space}
		if !cn.expect(cmd.RID, func(a reply) { c.resubscribed(cn, s, a) }) {
			return
		}
		cn.resubs++
		if err := c.write(cn, cmd); err != nil {
			c.cfg.Logger.Debug("client: resubscribe", "space", s.space, "err", err)
			return // the reader sees the failure next
		}
	}
	if cn.resubs == 0 {
		c.goLive(cn)
	}
}

// resubscribed is the handler of a resubscription's answer (Run's
// goroutine).
func (c *Client) resubscribed(cn *conn, s *subscription, a reply) {
	if a.code != "" {
		c.cfg.Logger.Warn("client: resubscription refused, subscription dropped", "space", s.space, "code", a.code, "message", a.message)
		c.unsubscribed(s)
	}
	if cn.resubs--; cn.resubs == 0 {
		c.goLive(cn)
	}
}
