package wsgateway

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/notifyd/notifyd/message"
)

// hub indexes live connections by site and principal, and tracks every
// running ServeHTTP call so that Shutdown can join them.
type hub struct {
	// active counts running ServeHTTP calls. Add is called only under mu
	// while closed is false, so the Wait that follows setting closed never
	// races an Add from zero.
	active sync.WaitGroup

	mu sync.RWMutex
	// guarded by mu
	closed bool                                     // Shutdown began: enter refuses
	sites  map[string]map[string]map[*conn]struct{} // site -> principal -> connections
	all    map[*conn]struct{}                       // every upgraded connection, indexed or not
	count  int                                      // indexed connections
	slots  slots                                    // connection limits and admissions (admission.go)

	// regSeq numbers registrations: addLocked increments it, under mu and
	// after indexing the connection, and records the new value in
	// conn.regSeq. Catch-up history reads load it without mu when they start
	// (see historyReads): a read that loads n started after every
	// connection numbered up to n was indexed.
	regSeq atomic.Uint64
}

func newHub() *hub {
	return &hub{
		sites: make(map[string]map[string]map[*conn]struct{}),
		all:   make(map[*conn]struct{}),
		slots: slots{
			perPrincipal: make(map[string]int),
			disconnected: make(map[string]uint64),
		},
	}
}

// enter registers a ServeHTTP call; it reports false once the hub is closed.
// A true result must be paired with leave.
func (h *hub) enter() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.active.Add(1)
	return true
}

// leave ends a ServeHTTP call registered by enter.
func (h *hub) leave() { h.active.Done() }

// attach records an upgraded connection so that Shutdown can reach it, and
// reports whether the hub is still open.
func (h *hub) attach(c *conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.all[c] = struct{}{}
	return !h.closed
}

// detach forgets a connection recorded by attach, removing it from the index
// too.
func (h *hub) detach(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeLocked(c)
	delete(h.all, c)
}

// add indexes an authenticated connection under its site and principals.
func (h *hub) add(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.addLocked(c)
}

func (h *hub) addLocked(c *conn) {
	if c.indexed {
		return
	}
	byPrincipal := h.sites[c.site]
	if byPrincipal == nil {
		byPrincipal = make(map[string]map[*conn]struct{})
		h.sites[c.site] = byPrincipal
	}
	for _, p := range c.principals {
		set := byPrincipal[p]
		if set == nil {
			set = make(map[*conn]struct{})
			byPrincipal[p] = set
		}
		set[c] = struct{}{}
	}
	c.indexed = true
	h.count++
	c.regSeq = h.regSeq.Add(1) // last: see regSeq
}

// remove takes a connection out of the index.
func (h *hub) remove(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeLocked(c)
}

func (h *hub) removeLocked(c *conn) {
	if !c.indexed {
		return
	}
	byPrincipal := h.sites[c.site]
	for _, p := range c.principals {
		set := byPrincipal[p]
		delete(set, c)
		if len(set) == 0 {
			delete(byPrincipal, p)
		}
	}
	if len(byPrincipal) == 0 {
		delete(h.sites, c.site)
	}
	c.indexed = false
	h.count--
}

// len is the number of indexed connections.
func (h *hub) len() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.count
}

// siteList returns the sites that have indexed connections, sorted.
func (h *hub) siteList() []string {
	h.mu.RLock()
	sites := make([]string, 0, len(h.sites))
	for s := range h.sites {
		sites = append(sites, s)
	}
	h.mu.RUnlock()
	slices.Sort(sites)
	return sites
}

// close refuses further enter calls and returns every attached connection.
func (h *hub) close() []*conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	return h.snapshotLocked()
}

// snapshot returns every attached connection.
func (h *hub) snapshot() []*conn {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.snapshotLocked()
}

func (h *hub) snapshotLocked() []*conn {
	conns := make([]*conn, 0, len(h.all))
	for c := range h.all {
		conns = append(conns, c)
	}
	return conns
}

// deliver enqueues push on every connection that should receive m: same
// site (case-insensitive), not the sender, at least one principal in the
// target. A connection matching several target principals gets push once.
// It never blocks: a full queue stops that connection (see conn.enqueue).
// Its cost is proportional to the number of candidate recipients.
func (h *hub) deliver(m *message.Message, push []byte) (delivered, dropped uint64) {
	targets := m.Principals()
	if len(targets) == 0 {
		return 0, 0
	}
	site := strings.ToLower(m.Host) // no allocation when already lower-case
	source := m.SourceID()
	it := item{id: m.ID, b: push}

	h.mu.RLock()
	defer h.mu.RUnlock()
	byPrincipal := h.sites[site]
	if byPrincipal == nil {
		return 0, 0
	}
	for k, p := range targets {
		for c := range byPrincipal[p] {
			if c.principal == source || matchedEarlier(c, targets[:k]) {
				continue
			}
			if c.stopping.Load() || !c.enqueue(it) {
				dropped++
				continue
			}
			delivered++
		}
	}
	return delivered, dropped
}

// matchedEarlier reports whether c carries one of the earlier targets, in
// which case it already got (or was refused) the message.
func matchedEarlier(c *conn, earlier []string) bool {
	for _, p := range earlier {
		if c.has(p) {
			return true
		}
	}
	return false
}
