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
// queued frames, skipping messages the replay covered: everything queued
// when it wakes up in one write within WriteTimeout (see writeQueued and
// wire.go); it ends or mutes the connection when its token expires (see
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
		if c.ib.badge != nil {
			c.ib.badge.Stop()
		}
	}()
	var seen idSet
	var spare []item // the queue's other buffer (queue.take)
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
		case <-c.badgeC():
			c.ib.armed = false
			if c.ib.dirty {
				c.writeInbox(ctx)
			}
		case <-c.readDone:
			c.stop(stopClient) // no effect when a reason was recorded
		case <-c.send.wake:
			spare = c.writeQueued(ctx, c.send.take(spare), seen)
		}
	}
}

// writeQueued sends items, everything that was queued, one frame per
// message, in as few writes as maxBatch allows (usually one), and returns
// items for the queue's next take. A requested close stops the draining:
// the batch built so far is sent, then the loop closes.
func (c *conn) writeQueued(ctx context.Context, items []item, seen idSet) []item {
	c.batching = true
	defer c.endBatch()
	for _, it := range items {
		if !c.skipMuted(it) {
			c.writeItem(ctx, it, seen)
		}
		if c.wfailed || c.stopping.Load() {
			return items
		}
	}
	c.badgeDue(ctx)
	return items
}

// endBatch ends a batch begun by setting c.batching, and sends it.
func (c *conn) endBatch() {
	c.batching = false
	c.flush()
}

// writeFrame sends b as one text frame (see conn.frame) and reports
// whether it was sent, or added to the batch being drained; a failed write
// stops c.
func (c *conn) writeFrame(_ context.Context, b []byte) bool {
	return c.frame(b)
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
