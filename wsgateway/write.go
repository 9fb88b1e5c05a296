package wsgateway

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/coder/websocket"
)

// writeLoop is the connection's first writer run: the only goroutine that
// writes data frames to c while it runs. It first replays history when the
// client asked for it (see replay), or, with Config.Inbox, catches up from
// the inbox and reads the counts and preferences (see startInbox), arms the
// token's expiry, then goes on as writeRuns.
func (c *conn) writeLoop(ctx context.Context) {
	c.env.stats.writers.Add(1)
	defer c.env.stats.writers.Add(-1)
	switch {
	case c.env.inbox != nil:
		c.seen = c.startInbox(ctx)
	case c.catchUp:
		c.seen = c.replay(ctx)
	}
	if !c.expires.IsZero() {
		c.expiry = time.AfterFunc(c.expires.Sub(c.env.now()), func() {
			close(c.expiredC)
			c.kick()
		})
	}
	c.writeRuns()
}

// kick starts a writer run unless one is running: every event the writer
// acts on (a queued frame, a stop, the reader's end, the token's expiry)
// kicks after it is visible. It never blocks.
func (c *conn) kick() {
	if c.wrun.CompareAndSwap(false, true) {
		c.env.stats.writers.Add(1)
		go func() { // owned by c: run waits for writeDone; one run at a time (wrun)
			defer c.env.stats.writers.Add(-1)
			c.writeRuns()
		}()
	}
}

// writeRuns is one writer run: it sends queued frames, skipping messages
// the replay covered, everything queued when it wakes up in one write
// within WriteTimeout (see writeQueued and wire.go); it ends or mutes the
// connection when its token expires (see expire), and performs the close
// once c is stopped, then marks writeDone done. An idle connection has no
// writer goroutine: a run returns when nothing is pending and the mute
// grace timer is not armed, and the next event kicks a new one (the badge
// and token expiry timers kick when they fire).
// State that outlives a run is in c, handed from run to run through wrun.
func (c *conn) writeRuns() {
	ctx := context.Background() // see run
	for {
		// A requested close wins over queued frames: a slow consumer gets
		// its close code as soon as the current write is done.
		if isDone(c.closing) {
			c.finish(ctx)
			return
		}
		if c.badgeFired.Swap(false) {
			c.badgeFire(ctx)
			continue
		}
		if !c.pending() && !c.timersArmed() {
			// Caught up: no large buffer is kept for an idle connection.
			if cap(c.spare) > keepCap {
				c.spare = nil
			}
			c.send.shrink()
			c.wrun.Store(false)
			// An event that came after pending looked has kicked, or
			// finds the run still going here.
			if !c.pending() || !c.wrun.CompareAndSwap(false, true) {
				return
			}
		}
		// Under load the only event is queued frames: take them without a
		// select over every event (which locks each channel; 12 % of a
		// broadcast's CPU, issue 9). Anything else pending goes through the
		// select below, as before.
		if !c.timersArmed() && !isDone(c.readDone) && !isDone(c.expiryC()) {
			select {
			case <-c.send.wake:
				c.spare = c.writeQueued(ctx, c.send.take(c.spare), c.seen)
				continue
			default:
			}
		}
		select {
		case <-c.closing:
		case <-c.expiryC():
			c.expiredDone.Store(true)
			c.expire(ctx)
		case <-c.muteGraceC():
			c.stop(stopMuteGrace)
		case <-c.readDone:
			c.stop(stopClient) // no effect when a reason was recorded
		case <-c.send.wake:
			c.spare = c.writeQueued(ctx, c.send.take(c.spare), c.seen)
		}
	}
}

// pending reports whether an event waits for the writer. It reads only
// what is safe to read without owning the writer: the run calls it again
// after clearing wrun.
func (c *conn) pending() bool {
	return len(c.send.wake) > 0 || c.badgeFired.Load() || isDone(c.closing) || isDone(c.readDone) || isDone(c.expiryC())
}

// timersArmed reports whether a timer of the writer's own is armed: the
// run waits for it rather than return. Writer only.
func (c *conn) timersArmed() bool { return c.muteTimer != nil }

// expiryC is closed when c's token expired and the writer has yet to act
// on it; nil otherwise.
func (c *conn) expiryC() <-chan struct{} {
	if c.expiry == nil || c.expiredDone.Load() {
		return nil
	}
	return c.expiredC
}

// finish is the last writer run's end: it stops the timers, closes the
// connection (close) and marks writeDone done. wrun stays set: no run follows.
func (c *conn) finish(ctx context.Context) {
	if c.expiry != nil {
		c.expiry.Stop()
	}
	if c.muteTimer != nil {
		c.muteTimer.Stop()
	}
	if c.ib.badge != nil {
		c.ib.badge.Stop()
	}
	c.close(ctx)
	c.writeDone.Done()
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
