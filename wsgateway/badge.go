package wsgateway

import (
	"context"
	"time"
)

// The badge throttle (Config.BadgeInterval). A message delivered with the
// inbox on raises the connection's counts; the inbox frame that tells them
// is written with the batch of messages when the last one is older than the
// interval, and otherwise held back: it rides with the first batch
// written once the interval has passed, or, when no message comes, goes
// alone a quarter of the interval later (badgeSlack), with the counts of
// that moment. A connection in a burst thus gets its messages at once and a
// badge a few times a second, instead of one inbox frame per message (half
// of the frames it was sent), and in a steady stream the badge costs no
// write of its own (broadcast@300 to 1000 clients: 621 k -> 562 k write
// syscalls for 3 M deliveries when it stopped being sent by the timer
// alone, issue 9). Writer only.

// badgeSlack is how long after the interval a held-back badge waits for a
// batch of messages to ride with.
func badgeSlack(interval time.Duration) time.Duration { return interval / 4 }

// badgeDue writes the inbox frame if the counts changed and the interval
// since the last one has passed, or arms the badge timer for the rest of
// it and the slack.
func (c *conn) badgeDue(ctx context.Context) {
	if !c.ib.dirty || c.wfailed || c.muted {
		return
	}
	wait := c.env.badgeInterval - c.env.now().Sub(c.ib.lastBadge)
	if wait <= 0 {
		c.writeInbox(ctx)
		return
	}
	if c.ib.armed {
		return
	}
	wait += badgeSlack(c.env.badgeInterval)
	c.ib.armed = true
	c.ib.fireAt = time.Now().Add(wait) // the timer's clock, not env.now: see badgeFire
	if c.ib.badge == nil {
		c.ib.badge = time.AfterFunc(wait, func() {
			c.badgeFired.Store(true)
			// Through the queue's wake: a run blocked in its select
			// (a mute grace armed, or one that had just looked at
			// badgeFired) wakes; otherwise kick starts one.
			c.send.signal()
		})
	} else {
		c.ib.badge.Reset(wait)
	}
}

// badgeFire handles the badge timer's firing (badgeFired): the held-back
// badge is written now unless a batch took it already, or, when frames
// were queued meanwhile, left to their batch (badgeDue at its end) rather
// than sent in a write of its own just before it (in a broadcast profile at
// 1000 msg/s those lone writes were 7 % of the CPU). The timer wakes the
// writer, so that no writer waits for it: an armed badge holds no
// goroutine.
//
// A firing is stale when a batch wrote the badge after the timer had fired
// (its Stop came too late to stop the callback): the badge is not armed any
// more, or armed again for later (time.Now before fireAt; a timer never
// fires early). A stale firing is ignored: it would send a badge right
// after the last one. Writer only.
func (c *conn) badgeFire(ctx context.Context) {
	if !c.ib.armed || time.Now().Before(c.ib.fireAt) {
		return
	}
	c.ib.armed = false
	switch {
	case !c.ib.dirty || c.muted:
	case c.send.len() > 0:
		// their batch takes it: badgeDue at its end finds the interval
		// passed (the timer fired a slack after it), or arms again
	default:
		c.writeInbox(ctx)
	}
}
