package wsgateway

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/coder/websocket"
)

// writeLoop is the only goroutine that writes data frames to c. It first
// replays history when the client asked for it (see replay), or, with
// Config.Inbox, catches up from the inbox and reads the counts and
// preferences (see startInbox), then sends
// queued frames, each within WriteTimeout, skipping messages the replay
// covered; it ends or mutes the connection when its token expires (see
// expire), and performs the close once c is stopped.
func (c *conn) writeLoop(ctx context.Context) {
	var expired <-chan time.Time
	if !c.expires.IsZero() {
		t := time.NewTimer(c.expires.Sub(c.env.now()))
		defer t.Stop()
		expired = t.C
	}
	defer func() {
		if c.muteTimer != nil {
			c.muteTimer.Stop()
		}
	}()
	var seen idSet
	switch {
	case c.env.inbox != nil:
		seen = c.startInbox(ctx)
	case c.catchUp:
		seen = c.replay(ctx)
	}
	for {
		// A requested close wins over queued frames: a slow consumer gets
		// its close code as soon as the current write is done.
		select {
		case <-c.closing:
			c.close(ctx)
			return
		default:
		}
		select {
		case <-c.closing:
		case <-expired:
			expired = nil
			c.expire(ctx)
		case <-c.muteGraceC():
			c.stop(stopMuteGrace)
		case <-c.readDone:
			c.stop(stopClient) // no effect when a reason was recorded
		case it := <-c.send:
			if c.skipMuted(it) {
				continue
			}
			c.writeItem(ctx, it, seen)
		}
	}
}

// writeFrame writes b and reports whether it was sent; a failed write stops
// c. The library closes the socket when a write fails or times out; there is
// nobody left to shake hands with.
func (c *conn) writeFrame(ctx context.Context, b []byte) bool {
	err := sendText(ctx, c.ws, c.env.writeTimeout, b)
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

// sendText sends one text frame on ws within timeout. A write that failed
// because timeout passed matches context.DeadlineExceeded: the library
// closes the socket when the timeout passes, and the blocked write may then
// report the closed socket instead.
func sendText(ctx context.Context, ws *websocket.Conn, timeout time.Duration, b []byte) error {
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := ws.Write(wctx, websocket.MessageText, b)
	if err != nil && ctx.Err() == nil && errors.Is(wctx.Err(), context.DeadlineExceeded) && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("wsgateway: write: %w (%w)", context.DeadlineExceeded, err)
	}
	return err
}
