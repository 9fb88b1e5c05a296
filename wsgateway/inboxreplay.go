package wsgateway

import (
	"context"

	"github.com/notifyd/notifyd/history"
)

// replayInbox is catch-up from the inbox (Config.Inbox): it reads, page by
// page (InboxPage entries each), every entry visible to c stored after
// since, oldest first, and sends the push form of each, except those of a
// category the user muted. It runs in the writer, after the connection was
// indexed, so live messages queue meanwhile; it returns the ids it read,
// which the writer skips in the live queue: no gap and no duplicate at the
// seam. A since that is no longer kept (or unknown, or hidden from c) gets
// the gap frame first, then the newest entries the inbox keeps (see
// Inbox.After); a since that is not a well-formed id gets the gap frame
// alone, as does a page that cannot be read in InboxTimeout (the client
// reloads over REST).
//
// The whole catch-up is bounded by the inbox's retention (its length per
// principal and its age); the seam set holds one id per entry read.
func (c *conn) replayInbox(ctx context.Context, since string) idSet {
	if since == "" { // not a well-formed id: nothing to read after
		c.writeGap(ctx, "")
		return nil
	}
	seen := idSet{since} // the client has it: if it is still on its way here, skip it
	cursor := since
	for {
		cctx, cancel := c.inboxCall(ctx)
		items, gap, err := c.env.inbox.After(cctx, c.reader, cursor, c.env.inboxPage)
		cancel()
		if err != nil {
			if c.ending() {
				return seen.sorted()
			}
			c.inboxFailed("catch-up", err)
			c.writeGap(ctx, cursor)
			return seen.sorted()
		}
		if gap && !c.writeGap(ctx, cursor) {
			return seen.sorted()
		}
		c.batching = true // one write per page (or maxBatch bytes)
		ok := true
		for _, it := range items {
			if ok = c.replayItem(ctx, it); !ok {
				break
			}
			seen = append(seen, it.Message.ID)
			cursor = it.Message.ID
		}
		c.endBatch() // before the next page's read
		if !ok {
			return seen.sorted()
		}
		if len(items) < c.env.inboxPage {
			return seen.sorted()
		}
	}
}

// replayItem sends one catch-up entry and reports whether the catch-up may
// go on.
func (c *conn) replayItem(ctx context.Context, it history.Item) bool {
	if !c.expires.IsZero() && !c.env.now().Before(c.expires) {
		c.expire(ctx) // no connection is served past its token, not even mid-replay
		return false
	}
	if c.stopping.Load() {
		return false
	}
	if it.Muted {
		c.env.stats.mutedByPrefs.Add(1)
		return true
	}
	c.frameID = it.Message.ID
	if !c.writeFrame(ctx, it.Message.PushJSON()) {
		return false
	}
	c.env.stats.replayed.Add(1)
	return true
}

// sorted returns s sorted and without duplicates, ready for has.
func (s idSet) sorted() idSet { return newIDSetOf(s) }
