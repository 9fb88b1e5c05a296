package wsgateway

import (
	"context"
	"slices"

	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/protocol"
)

// replay is catch-up on connect (GET /ws/chat?since=<id>). The writer runs
// it before its loop, after the connection was indexed, so live messages
// queue meanwhile. It reads the site's history (through historyReads, which shares
// one read between concurrent catch-ups of the site that registered before
// it started, and bounds concurrent reads); when since is not among the
// messages of it the connection may see (or is not a well-formed id, or the
// history cannot be read in ReplayTimeout) it sends the gap frame; then it
// sends, oldest first, every message after since (all of them after a gap)
// that is visible to the connection. The
// read's result is shared and never modified here. It writes these frames
// itself, each within WriteTimeout, without going through the queue: replay
// does not count toward QueueSize, but live messages that arrive meanwhile
// do, and overflowing the queue during a replay closes the connection with
// protocol.CloseSlowConsumer as usual. A close requested meanwhile stops the replay.
//
// It returns the ids the writer must not send again from the live queue:
// every visible message of the list read (replayed, or at or before since,
// which the client already has). The set is kept for the connection's life:
// the Publisher appends to history before it publishes, so a message read
// here may still be on its way to Deliver; its size is bounded by the
// history length.
func (c *conn) replay(ctx context.Context) idSet {
	since := c.since        // "" when it was not a well-formed id: see Gateway.newConn
	if c.env.reads == nil { // no Config.History
		c.writeGap(ctx, since)
		return nil
	}
	snap, err := c.env.reads.wait(ctx, c)
	if err != nil {
		if c.stopping.Load() || isDone(c.readDone) {
			return nil // the read was cancelled because the connection ends
		}
		c.env.stats.historyErrs.Add(1)
		c.logger().Warn("wsgateway: catch-up history read failed", "err", err)
		c.writeGap(ctx, since)
		return nil
	}
	r := message.Recipient{Host: c.site, Principal: c.principal, Principals: c.principals}
	visible, at := visibleOf(snap.list, r)
	// The cursor is resolved among the messages this connection may see:
	// a since naming a hidden message is answered as an unknown one, so that
	// the gap frame never tells that a hidden message exists (the REST
	// history does the same). newer is a prefix of visible, newest first.
	newer, found := message.After(visible, since)
	if (since == "" || !found) && !c.writeGap(ctx, since) {
		return nil
	}
	c.batching = true // one write per maxBatch bytes
	defer c.endBatch()
	for i := len(newer) - 1; i >= 0; i-- {
		if !c.expires.IsZero() && !c.env.now().Before(c.expires) {
			c.expire(ctx) // no connection is served past its token, not even mid-replay
			return nil
		}
		c.frameID = snap.list[at[i]].ID
		if c.stopping.Load() || !c.writeFrame(ctx, snap.pushAt(at[i])) {
			return nil // the writer's loop performs the close
		}
		c.env.stats.replayed.Add(1)
	}
	return newIDSet(visible)
}

// visibleOf returns the messages of list (shared: read only) visible to r,
// in list's order, and their indexes in list.
func visibleOf(list []*message.Message, r message.Recipient) (visible []*message.Message, at []int) {
	for i, m := range list {
		if m.VisibleTo(r) {
			visible = append(visible, m)
			at = append(at, i)
		}
	}
	return visible, at
}

// writeGap sends the gap frame for since and reports whether it was written.
func (c *conn) writeGap(ctx context.Context, since string) bool {
	if !c.writeFrame(ctx, protocol.GapFrame(since)) {
		return false
	}
	c.env.stats.gaps.Add(1)
	return true
}

// idSet is a sorted set of message ids; the zero value is empty.
type idSet []string

// newIDSet returns the ids of the messages of list.
func newIDSet(list []*message.Message) idSet {
	var s idSet
	for _, m := range list {
		s = append(s, m.ID)
	}
	return newIDSetOf(s)
}

// newIDSetOf returns the set of ids, which it may reorder in place.
func newIDSetOf(ids []string) idSet {
	ids = slices.DeleteFunc(ids, func(id string) bool { return id == "" })
	slices.Sort(ids)
	return slices.Compact(ids)
}

// has reports whether id is in s; "" never is.
func (s idSet) has(id string) bool {
	if len(s) == 0 || id == "" {
		return false
	}
	_, ok := slices.BinarySearch(s, id)
	return ok
}

// isDone reports whether ch is closed.
func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
