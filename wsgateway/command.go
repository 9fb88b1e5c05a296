package wsgateway

import (
	"context"
	"errors"
	"time"

	"github.com/notifyd/notifyd/internal/limit"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/protocol"
	"github.com/notifyd/notifyd/space"
)

// Typing events one connection may send: a token bucket of typingBurst
// refilled at one per typingEvery. More are answered rate_limited.
const (
	typingEvery = 500 * time.Millisecond
	typingBurst = 4
)

// The other commands but send (limited per user by the service):
// subscribe, unsubscribe, react, edit, delete and read share a bucket of
// commandBurst per connection, refilled at one per commandEvery, so that a
// member cannot make the gateways and Redis work in a loop.
const (
	commandEvery = 100 * time.Millisecond
	commandBurst = 20
)

// allow takes a token at now from b, a bucket of burst tokens refilled at
// one per every.
func allow(b *limit.Bucket, now time.Time, every time.Duration, burst float64) bool {
	ok, _ := b.Take(now, 1/every.Seconds(), burst)
	return ok
}

// isCommand reports whether a text frame that is not PING nor an ack is
// for the space commands: a JSON object, on a gateway with Config.Spaces,
// from an authenticated connection. Anything else is ignored, as before.
func (c *conn) isCommand(data []byte) bool {
	return c.env.spaces != nil && c.principal != "" && len(data) > 0 && data[0] == '{'
}

// command runs one space command in the reader's goroutine: one at a time
// per connection, in order, each bounded by SpacesTimeout, and answers it
// through the writer. A malformed command gets the error answer; the
// connection stays open.
func (c *conn) command(ctx context.Context, data []byte) {
	c.env.stats.commands.Add(1)
	cmd, err := protocol.ParseCommand(data)
	if err != nil {
		c.answerErr(cmd.RID, protocol.CodeInvalid, err.Error())
		return
	}
	if c.expired() {
		c.answerErr(cmd.RID, protocol.CodeForbidden, "token expired")
		return
	}
	ctx, cancel := context.WithTimeout(ctx, c.env.spacesTimeout)
	defer cancel()
	ok := protocol.OK{RID: cmd.RID}
	switch cmd.Action {
	case protocol.ActionSend, protocol.ActionTyping: // limited by their own buckets
	default:
		if !allow(&c.commands, c.env.now(), commandEvery, commandBurst) {
			c.answerErr(cmd.RID, protocol.CodeRateLimited, "too many commands on this connection")
			return
		}
	}
	err = c.run1(ctx, cmd, &ok)
	if err != nil {
		c.answerErr(cmd.RID, codeOf(err), messageOf(err))
		return
	}
	c.enqueue(item{b: protocol.OKFrame(ok)})
}

// run1 performs cmd and fills ok.
func (c *conn) run1(ctx context.Context, cmd protocol.Command, ok *protocol.OK) error {
	sp := c.env.spaces
	caller := space.Caller{Host: c.site, Principal: c.principal, Title: c.title}
	switch cmd.Action {
	case protocol.ActionSubscribe:
		if !message.ValidID(cmd.Space) {
			return space.ErrNotFound
		}
		for range maxStaleReads {
			gen := c.env.hub.generation(c.site, c.principal)
			member, _, err := sp.IsMember(ctx, c.site, cmd.Space, c.principal)
			if err != nil {
				return err
			}
			if !member {
				return space.ErrNotFound
			}
			ok, stale := c.env.hub.subscribe(c, cmd.Space, gen)
			switch {
			case stale: // an event overtook the read: read again
				continue
			case !ok:
				return errTooManySubscriptions
			}
			return nil
		}
		return errStaleMembership
	case protocol.ActionUnsubscribe:
		c.env.hub.unsubscribe(c, cmd.Space)
		return nil
	case protocol.ActionSend:
		m, err := sp.Send(ctx, caller, cmd.Space, cmd.Send, space.SendOptions{OnID: c.sent.add, Key: cmd.Key})
		if err != nil {
			return err
		}
		ok.ID, ok.Timestamp = m.ID, m.Timestamp
		return nil
	case protocol.ActionTyping:
		if !c.typingAllowed() {
			return space.ErrRateLimited
		}
		return sp.Typing(ctx, caller, cmd.Space)
	case protocol.ActionReact:
		r, err := sp.React(ctx, caller, cmd.Message, cmd.Emoji, cmd.Remove)
		if err != nil {
			return err
		}
		ok.Count = &r.Count
		return nil
	case protocol.ActionEdit:
		return sp.Edit(ctx, caller, cmd.Message, cmd.Body)
	case protocol.ActionDelete:
		return sp.DeleteMessage(ctx, caller, cmd.Message)
	default: // protocol.ActionRead; ParseCommand refused the others
		return sp.Read(ctx, caller, cmd.Space, cmd.Until)
	}
}

// errTooManySubscriptions: subscribe beyond MaxSubscriptions.
var errTooManySubscriptions = errors.New("too many subscriptions on this connection")

// codeOf maps a space error to its error code.
func codeOf(err error) string {
	switch {
	case errors.Is(err, space.ErrNotFound):
		return protocol.CodeNotFound
	case errors.Is(err, space.ErrForbidden):
		return protocol.CodeForbidden
	case errors.Is(err, space.ErrInvalid), errors.Is(err, errTooManySubscriptions):
		return protocol.CodeInvalid
	case errors.Is(err, space.ErrRateLimited):
		return protocol.CodeRateLimited
	default:
		return protocol.CodeUnavailable
	}
}

// messageOf is the message of an error answer: the service's own words for
// what the client can mend, a fixed text for what it cannot (never a Redis
// error).
func messageOf(err error) string {
	switch codeOf(err) {
	case protocol.CodeNotFound:
		return "no such space or message"
	case protocol.CodeUnavailable:
		return "the service is unavailable, try again"
	}
	return err.Error()
}

// answerErr enqueues the error answer.
func (c *conn) answerErr(rid, code, msg string) {
	c.env.stats.commandErrs.Add(1)
	c.enqueue(item{b: protocol.ErrorFrame(rid, code, msg)})
}

// expired reports whether c's token has expired (a muted connection may
// still be reading).
func (c *conn) expired() bool {
	return !c.expires.IsZero() && !c.env.now().Before(c.expires)
}

// typingAllowed takes a token from c's typing bucket. Reader only.
func (c *conn) typingAllowed() bool {
	return allow(&c.typing, c.env.now(), typingEvery, typingBurst)
}
