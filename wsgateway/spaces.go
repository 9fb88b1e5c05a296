package wsgateway

import (
	"context"
	"errors"
	"hash/fnv"
	"strings"
	"sync"

	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/protocol"
	"github.com/notifyd/notifyd/space"
)

// Spaces (issue 10) on the websocket. A connection's spaces are the spaces
// its user belongs to on its site: read once at connect (Spaces.MemberOf),
// then kept by the membership events every gateway receives
// (SpaceMember). The hub indexes connections by site and space, and each
// connection marks the spaces it subscribed to. Both are guarded by the
// hub's lock, so that Deliver (under the read lock) never calls Redis:
//
//   - a space message (category protocol.SpaceCategory) goes to the
//     member connections of its space: the message event to those that
//     subscribed, except the connection that sent it (it got the ok); for
//     those that did not, a direct message as its push form (a
//     notification, as Avaya's MESSAGE_SENT), and in a group space the
//     activity event, except to PyAMS's browser client (subprotocol) and to
//     the sender's own connections;
//   - typing, reaction, membership, update and retract events go to the
//     connections that subscribed.
//
// A membership change that happens while a connection's spaces are being
// read at connect may be missed by that connection until the next
// SpacesResync or subscribe (subscribe always asks Redis).

// Spaces is what the gateway uses of the chat service. *space.Service
// satisfies it.
type Spaces interface {
	MemberOf(ctx context.Context, host, principal string, limit int) ([]string, error)
	IsMember(ctx context.Context, host, id, principal string) (member, moderator bool, err error)
	Send(ctx context.Context, c space.Caller, id string, m protocol.Send, o space.SendOptions) (protocol.SpaceMessage, error)
	Typing(ctx context.Context, c space.Caller, id string) error
	React(ctx context.Context, c space.Caller, messageID, emoji string, remove bool) (protocol.Reaction, error)
	Edit(ctx context.Context, c space.Caller, messageID, body string) error
	DeleteMessage(ctx context.Context, c space.Caller, messageID string) error
	Read(ctx context.Context, c space.Caller, id, until string) error
}

var _ Spaces = (*space.Service)(nil)

// Space limits of one connection.
const (
	// MaxSpacesPerConn is how many of its user's spaces a connection loads
	// at connect (the most recent first) and may be indexed under.
	MaxSpacesPerConn = 1000
	// MaxSubscriptions is how many spaces one connection may subscribe to.
	MaxSubscriptions = 100
)

// genBuckets is how many membership generations the hub keeps: a
// generation counts the membership events of the principals of its
// bucket (site and principal hashed). A Redis read of someone's
// membership (IsMember, MemberOf) is applied only if no event of its
// bucket was applied meanwhile, otherwise it is read again: an event can
// never be undone by a read that started before it. Two principals
// sharing a bucket only cost a re-read.
const genBuckets = 1024

// maxStaleReads bounds the re-reads of one membership read that events
// keep overtaking; beyond, the operation fails as unavailable.
const maxStaleReads = 4

// errStaleMembership: membership reads kept being overtaken by events.
var errStaleMembership = errors.New("membership changing too fast, try again")

func genIndex(site, principal string) int {
	h := fnv.New32a()
	h.Write([]byte(site))
	h.Write([]byte{0})
	h.Write([]byte(principal))
	return int(h.Sum32() % genBuckets)
}

// generation returns the membership generation of principal on site.
func (h *hub) generation(site, principal string) uint64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.gens[genIndex(site, principal)]
}

// spaceSet is a connection's spaces: id -> subscribed. Guarded by hub.mu.
type spaceSet map[string]bool

// sentIDs remembers the last ids a connection sent, so that the delivery
// of its own message skips it (it got the ok). Guarded by its mutex: the
// reader adds, Deliver (under the hub's read lock) looks. The ids are
// allocated on the first send: most connections never send.
type sentIDs struct {
	mu  sync.Mutex
	n   uint32
	ids *[8]string
}

func (s *sentIDs) add(id string) {
	s.mu.Lock()
	if s.ids == nil {
		s.ids = new([8]string)
	}
	s.ids[s.n%uint32(len(s.ids))] = id
	s.n++
	s.mu.Unlock()
}

func (s *sentIDs) has(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ids == nil {
		return false
	}
	for _, x := range s.ids {
		if x == id {
			return true
		}
	}
	return false
}

// indexSpacesLocked indexes c under each of its spaces.
func (h *hub) indexSpacesLocked(c *conn) {
	if len(c.spaces) == 0 {
		return
	}
	bySpace := h.spaces[c.site]
	if bySpace == nil {
		bySpace = make(map[string]map[*conn]struct{})
		h.spaces[c.site] = bySpace
	}
	for id := range c.spaces {
		h.indexSpaceLocked(bySpace, id, c)
	}
}

func (h *hub) indexSpaceLocked(bySpace map[string]map[*conn]struct{}, id string, c *conn) {
	set := bySpace[id]
	if set == nil {
		set = make(map[*conn]struct{})
		bySpace[id] = set
	}
	set[c] = struct{}{}
}

// unindexSpacesLocked takes c out of every space index.
func (h *hub) unindexSpacesLocked(c *conn) {
	for id := range c.spaces {
		h.unindexSpaceLocked(c.site, id, c)
	}
}

func (h *hub) unindexSpaceLocked(site, id string, c *conn) {
	bySpace := h.spaces[site]
	set := bySpace[id]
	delete(set, c)
	if len(set) == 0 {
		delete(bySpace, id)
	}
	if len(bySpace) == 0 {
		delete(h.spaces, site)
	}
}

// joinLocked makes space id one of c's spaces (subscribed or not); c must
// be indexed.
func (h *hub) joinLocked(c *conn, id string, subscribed bool) {
	if c.spaces == nil {
		c.spaces = make(spaceSet)
	}
	if _, ok := c.spaces[id]; !ok {
		bySpace := h.spaces[c.site]
		if bySpace == nil {
			bySpace = make(map[string]map[*conn]struct{})
			h.spaces[c.site] = bySpace
		}
		h.indexSpaceLocked(bySpace, id, c)
	}
	if subscribed || !c.spaces[id] {
		c.spaces[id] = subscribed || c.spaces[id]
	}
}

// subscribe marks space id subscribed on c, found a member at membership
// generation gen. It reports stale, and changes nothing, when a membership
// event of c's principal was applied since gen (the read must be made
// again), and ok false when c is no longer indexed or already has
// MaxSubscriptions.
func (h *hub) subscribe(c *conn, id string, gen uint64) (ok, stale bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.gens[genIndex(c.site, c.principal)] != gen {
		return false, true
	}
	if _, ok := h.all[c]; !ok {
		return false, false
	}
	if !c.spaces[id] {
		n := 0
		for _, s := range c.spaces {
			if s {
				n++
			}
		}
		if n >= MaxSubscriptions {
			return false, false
		}
	}
	h.joinLocked(c, id, true)
	return true, false
}

// unsubscribe clears the subscription of c to space id (it stays a member).
func (h *hub) unsubscribe(c *conn, id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := c.spaces[id]; ok {
		c.spaces[id] = false
	}
}

// memberChange applies a membership event to the connections of principal
// on site: joined indexes them under the space, otherwise they leave it
// (and lose their subscription).
func (h *hub) memberChange(site, id, principal string, joined bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.gens[genIndex(site, principal)]++
	for c := range h.sites[site][principal].all() {
		if c.principal != principal {
			continue
		}
		if joined {
			h.joinLocked(c, id, false)
			continue
		}
		if _, ok := c.spaces[id]; ok {
			delete(c.spaces, id)
			h.unindexSpaceLocked(site, id, c)
		}
	}
}

// eachSpaceConn calls fn, under the read lock (it must not block), for
// every connection of space id on site that is not stopping.
func (h *hub) eachSpaceConn(site, id string, fn func(c *conn, subscribed bool)) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for c := range h.spaces[site][id] {
		if !c.stopping.Load() {
			fn(c, c.spaces[id])
		}
	}
}

// toSubscribers enqueues b on every connection of site subscribed to space
// id, except those of principal skip ("" skips none). It never blocks.
func (g *Gateway) toSubscribers(site, id, skip string, b []byte) {
	var delivered, dropped uint64
	g.hub.eachSpaceConn(strings.ToLower(site), id, func(c *conn, subscribed bool) {
		if !subscribed || (skip != "" && c.principal == skip) {
			return
		}
		if c.enqueue(item{b: b}) {
			delivered++
		} else {
			dropped++
		}
	})
	g.count(delivered, dropped)
}

// spaceField returns the space field of a space message, or false (and
// counts it) when m is not a well-formed one.
func (g *Gateway) spaceField(m *message.Message) (protocol.SpaceField, bool) {
	f, err := protocol.ParseSpaceField(m.Extra["space"])
	if err != nil {
		g.stats.spaceMalformed.Add(1)
		g.cfg.Logger.Debug("wsgateway: space message without a valid space field", "id", m.ID, "err", err)
		return f, false
	}
	return f, true
}

func senderOf(m *message.Message) protocol.Sender {
	if m.Source == nil {
		return protocol.Sender{}
	}
	return protocol.Sender{ID: m.Source.ID, Title: m.Source.Title}
}

// deliverSpace is Deliver for a space message (see the comment at the top).
func (g *Gateway) deliverSpace(m *message.Message, push []byte) {
	f, ok := g.spaceField(m)
	if !ok {
		return
	}
	sender := senderOf(m)
	var frame, activity []byte // built once, on first use
	var delivered, dropped uint64
	g.hub.eachSpaceConn(strings.ToLower(m.Host), f.ID, func(c *conn, subscribed bool) {
		var b []byte
		switch {
		case c.sent.has(m.ID): // the sending connection: it got the ok
			return
		case subscribed:
			if frame == nil {
				frame = protocol.NewSpaceMessage(protocol.ActionMessage, f, m.ID, sender, m.Timestamp).Frame()
			}
			b = frame
		case c.principal == sender.ID: // one's own message is not news
			return
		case f.Direct:
			b = push
		case c.pyams:
			return
		default:
			if activity == nil {
				activity = protocol.ActivityFrame(f.ID, m.ID, sender.ID, m.Timestamp)
			}
			b = activity
		}
		if c.enqueue(item{b: b}) {
			delivered++
		} else {
			dropped++
		}
	})
	g.stats.spaceMessages.Add(1)
	g.count(delivered, dropped)
}

// deliverSpaceChange sends the update or retract event of a space message
// to the connections that subscribed to its space.
func (g *Gateway) deliverSpaceChange(m *message.Message, retract bool) {
	f, ok := g.spaceField(m)
	if !ok {
		return
	}
	var b []byte
	if retract {
		b = protocol.SpaceRetractFrame(f.ID, m.ID)
	} else {
		b = protocol.NewSpaceMessage(protocol.ActionUpdate, f, m.ID, senderOf(m), m.Timestamp).Frame()
	}
	g.toSubscribers(m.Host, f.ID, "", b)
}

// SpaceMember applies a membership event: principal joined or left space
// id on host (deleted: the space was deleted). The connections subscribed
// to the space get the member event (the leaver's too, before it leaves);
// principal's connections are indexed under the space or leave it. It
// never blocks. It satisfies space.EventSink with SpaceTyping,
// SpaceReaction and SpacesResync.
func (g *Gateway) SpaceMember(host, id, principal string, joined, deleted bool) {
	if g.cfg.Spaces == nil {
		return
	}
	site := strings.ToLower(host)
	frame := protocol.Member{Space: id, Principal: principal, Joined: joined, Deleted: deleted}.Frame()
	if joined {
		g.hub.memberChange(site, id, principal, true)
		g.toSubscribers(site, id, "", frame)
		return
	}
	g.toSubscribers(site, id, "", frame)
	g.hub.memberChange(site, id, principal, false)
}

// SpaceTyping sends the typing event to the connections subscribed to
// space id on host, except principal's own. It never blocks.
func (g *Gateway) SpaceTyping(host, id, principal string) {
	if g.cfg.Spaces == nil {
		return
	}
	g.toSubscribers(host, id, principal, protocol.TypingFrame(id, principal))
}

// SpaceReaction sends the reaction event to the connections subscribed to
// its space on host. It never blocks.
func (g *Gateway) SpaceReaction(host string, r protocol.Reaction) {
	if g.cfg.Spaces == nil {
		return
	}
	g.toSubscribers(host, r.Space, "", r.Frame())
}
