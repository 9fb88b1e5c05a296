package wsgateway

import (
	"context"
	"strings"
	"time"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/protocol"
)

// The inbox on the websocket (Config.Inbox; issue 8). Each connection's
// writer owns its user's badge counts and preferences (inboxState): it reads
// them once when it starts, before it sends any live message, and changes
// them only from items of its own queue, so nothing on the delivery path
// locks or calls Redis:
//
//   - a live message (Deliver) of a category the user muted is dropped;
//     any other is sent, then counted (unread and unseen + 1) and followed by
//     the inbox frame;
//   - InboxChanged and a recount after a retract set the counts and send the
//     inbox frame; PrefsChanged sets the preferences;
//   - DeliverUpdate and DeliverRetract send the update and retract frames.
//
// The counts read at connect include every message delivered before the
// read started: the writer notes how many items were queued then
// (inboxState.pre) and does not count them again. A message stored while
// the count is read, and delivered after it started, may be counted twice
// or not at all until the user's next change of counts (any InboxChanged
// sets them again). The counts are capped by the store (history's
// CountCap); the writer's increments are not.

// itemKind says what a queued item is.
type itemKind uint8

const (
	kindMessage itemKind = iota // a live message: sent, then counted
	kindUpdate                  // an update frame
	kindRetract                 // a retract frame
	kindCounts                  // new counts: set them, send the inbox frame
	kindPrefs                   // new preferences: set them
)

// itemMeta is what the writer needs to know about an inbox-era item besides
// its bytes. One is built per call (per message, per InboxChanged) and
// shared, read-only, by every recipient.
type itemMeta struct {
	kind     itemKind
	category string         // kindMessage, kindUpdate: the message's category (preferences)
	counts   history.Counts // kindCounts
	prefs    history.Prefs  // kindPrefs
}

// inboxState is a connection's view of its user's inbox. Owned by the
// writer.
type inboxState struct {
	counts history.Counts
	known  bool          // counts were read (or set by InboxChanged): the inbox frame may be sent
	prefs  history.Prefs // muted categories
	pre    int           // items queued before the counts were read: already counted

	// the badge throttle (badge.go)
	dirty     bool        // counts changed by messages since the last inbox frame
	lastBadge time.Time   // when the last inbox frame was queued
	badge     *time.Timer // fires when a held-back badge is due; nil until needed
	armed     bool        // badge is set to fire
	fireAt    time.Time   // real time (time.Now, as the timer) at which the armed badge fires
}

// MaxDeviceLength is the longest ?device= id (protocol.MaxDeviceLength).
const MaxDeviceLength = protocol.MaxDeviceLength

// validDevice reports whether d is a well-formed device id: 1 to
// MaxDeviceLength characters of [0-9A-Za-z._:-].
func validDevice(d string) bool {
	return len(d) <= MaxDeviceLength && message.ValidID(d)
}

// inboxCall returns the context of one Inbox call of c: bounded by
// InboxTimeout, and cancelled when c is asked to end or its reader ends
// (cancelInbox), so that a writer never waits on Redis for a dead connection.
func (c *conn) inboxCall(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, c.env.inboxTimeout)
	unwatch := c.inboxCalls.watch(cancel)
	return ctx, func() { unwatch(); cancel() }
}

// startInbox is the writer's first act when the inbox is on: the catch-up
// (?since=, or the device's cursor when there is no since), then the counts
// and preferences, then the inbox frame. It returns the ids live delivery
// must skip (those the catch-up covered).
func (c *conn) startInbox(ctx context.Context) idSet {
	since, catchUp := c.since, c.catchUp
	if !catchUp && c.device != "" {
		cctx, cancel := c.inboxCall(ctx)
		cur, err := c.env.inbox.DeviceCursor(cctx, c.reader, c.device)
		cancel()
		switch {
		case err != nil:
			if c.ending() {
				return nil
			}
			c.inboxFailed("device cursor", err)
			c.writeGap(ctx, "") // the client reloads over REST
		case cur != "":
			since, catchUp = cur, true
		}
	}
	var seen idSet
	if catchUp {
		seen = c.replayInbox(ctx, since)
	}
	if c.ending() {
		return seen
	}
	st := &c.ib
	st.pre = c.send.len() // delivered before the count starts: counted by it
	cctx, cancel := c.inboxCall(ctx)
	defer cancel()
	o := c.env.inbox.CountPrefs(cctx, c.reader)
	if o.CountsErr != nil {
		if !c.ending() {
			c.inboxFailed("count", o.CountsErr)
		}
	} else {
		st.counts, st.known = o.Counts, true
	}
	if o.PrefsErr != nil {
		if !c.ending() {
			c.inboxFailed("preferences", o.PrefsErr)
		}
	} else {
		st.prefs = o.Prefs
	}
	if st.known {
		c.writeInbox(ctx)
	}
	return seen
}

// ending reports whether c was asked to end or its reader has ended.
func (c *conn) ending() bool { return c.stopping.Load() || isDone(c.readDone) }

// inboxFailed counts and logs a failed Inbox call of c.
func (c *conn) inboxFailed(what string, err error) {
	c.env.stats.inboxErrs.Add(1)
	c.env.warns.WarnOrDebug(c.logger(), "inbox", "wsgateway: inbox "+what+" failed", "err", err)
}

// writeInbox sends c's counts.
func (c *conn) writeInbox(ctx context.Context) {
	if c.ib.armed { // the held-back badge goes now: no wake-up for it
		c.ib.armed = false
		c.ib.badge.Stop()
	}
	c.ib.dirty = false
	c.ib.lastBadge = c.env.now()
	c.batchInbox++ // counted once written (flush)
	c.writeFrame(ctx, protocol.InboxFrame(c.ib.counts.Unread, c.ib.counts.Unseen))
}

// writeItem sends one queued item; seen are the ids the catch-up covered.
// Writer only.
func (c *conn) writeItem(ctx context.Context, it item, seen idSet) {
	m := it.meta
	pre := false
	if c.ib.pre > 0 {
		c.ib.pre--
		pre = true
	}
	if m == nil { // no inbox: a message or PONG
		if seen.has(it.id) {
			c.env.stats.seamSkipped.Add(1)
			return
		}
		c.frameID = it.id
		c.writeFrame(ctx, it.b)
		return
	}
	switch m.kind {
	case kindMessage:
		if seen.has(it.id) {
			c.env.stats.seamSkipped.Add(1)
			return
		}
		if c.ib.prefs.Mutes(m.category) {
			c.env.stats.mutedByPrefs.Add(1)
			return
		}
		c.frameID = it.id
		if !c.writeFrame(ctx, it.b) || pre || !c.ib.known {
			return
		}
		c.ib.counts.Unread++
		c.ib.counts.Unseen++
		c.ib.dirty = true // sent at the end of the batch or later (badge.go)
	case kindUpdate:
		if c.ib.prefs.Mutes(m.category) {
			c.env.stats.mutedByPrefs.Add(1)
			return
		}
		c.writeFrame(ctx, it.b)
	case kindRetract:
		c.writeFrame(ctx, it.b)
	case kindCounts:
		if pre { // set before the count read at connect: stale
			return
		}
		c.ib.counts, c.ib.known = m.counts, true
		c.writeInbox(ctx)
	case kindPrefs:
		if !pre {
			c.ib.prefs = m.prefs
		}
	}
}

// InboxChanged sets the counts of user's connections on host and sends them
// the inbox frame. The subscriber calls it for the control message the REST
// API publishes after every change of a user's read state (read, unread,
// seen, preferences), so that every gateway's connections of that user
// follow. It never blocks. It does nothing without Config.Inbox.
func (g *Gateway) InboxChanged(host, user string, counts history.Counts) {
	if g.cfg.Inbox == nil || user == "" {
		return
	}
	g.hub.toUser(host, user, item{meta: &itemMeta{kind: kindCounts, counts: counts}})
}

// PrefsChanged sets the preferences of user's connections on host: from
// now on they get no live message of a muted category. It never blocks. It
// does nothing without Config.Inbox.
func (g *Gateway) PrefsChanged(host, user string, prefs history.Prefs) {
	if g.cfg.Inbox == nil || user == "" {
		return
	}
	g.hub.toUser(host, user, item{meta: &itemMeta{kind: kindPrefs, prefs: prefs}})
}

// DeliverUpdate sends the update frame of m (push is its new push form,
// encoded once) to every connection that may see m, as Deliver would.
// It never blocks.
func (g *Gateway) DeliverUpdate(m *message.Message, push []byte) {
	if m == nil {
		return
	}
	if m.Category == protocol.SpaceCategory {
		if g.cfg.Spaces != nil {
			g.deliverSpaceChange(m, false)
		}
		return
	}
	frame, ok := protocol.UpdateFrame(push)
	if !ok {
		g.cfg.Logger.Debug("wsgateway: update push form is not a JSON object", "id", m.ID)
		return
	}
	g.count(g.hub.deliver(m, item{b: frame, meta: &itemMeta{kind: kindUpdate, category: m.Category}}, nil, nil))
}

// DeliverRetract sends the retract frame of m to every connection that may
// see m, as Deliver would, and, with Config.Inbox, recounts the badge of
// every connected user among them (in the background, RecountConcurrency
// at a time) and sends them the inbox frame. It never blocks.
func (g *Gateway) DeliverRetract(m *message.Message) {
	if m == nil || m.ID == "" {
		return
	}
	if m.Category == protocol.SpaceCategory {
		if g.cfg.Spaces != nil {
			g.deliverSpaceChange(m, true)
		}
		return
	}
	var users map[userKey]history.Reader
	var visit func(*conn)
	if g.recounts != nil {
		users = make(map[userKey]history.Reader)
		visit = func(c *conn) {
			k := userKey{c.site, c.principal}
			if _, ok := users[k]; !ok {
				users[k] = c.reader
			}
		}
	}
	g.count(g.hub.deliver(m, item{b: protocol.RetractFrame(m.ID), meta: &itemMeta{kind: kindRetract}}, visit, nil))
	for _, r := range users {
		g.recounts.schedule(r)
	}
}

// count adds a fan-out's figures to the counters.
func (g *Gateway) count(delivered, dropped uint64) {
	if delivered > 0 {
		g.stats.delivered.Add(delivered)
	}
	if dropped > 0 {
		g.stats.dropped.Add(dropped)
	}
}

// userKey is one user on one site.
type userKey struct{ site, user string }

// toUser enqueues it on every indexed connection of user (its token's sub)
// on host. It never blocks: a full queue stops that connection.
func (h *hub) toUser(host, user string, it item) {
	site := strings.ToLower(host)
	h.mu.RLock()
	defer h.mu.RUnlock()
	for c := range h.sites[site][user].all() {
		if c.principal == user && !c.stopping.Load() {
			c.enqueue(it)
		}
	}
}
