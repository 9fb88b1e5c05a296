package wsgateway

import (
	"slices"
	"strings"
	"sync"

	"github.com/notifyd/notifyd/message"
)

// hub indexes admitted connections by site and principal, and admits them
// (admission.go): connection limits, and admissions racing Disconnect. It
// never touches a socket.
type hub struct {
	mu sync.RWMutex
	// guarded by mu
	sites  map[string]map[string]connSet            // site -> principal -> connections
	all    map[*conn]struct{}                       // every indexed connection
	spaces map[string]map[string]map[*conn]struct{} // site -> space id -> member connections (spaces.go)
	gens   [genBuckets]uint64                       // membership events per bucket of (site, principal) (spaces.go)
	admits admissions                               // (admission.go)
}

func newHub() *hub {
	return &hub{
		sites:  make(map[string]map[string]connSet),
		all:    make(map[*conn]struct{}),
		spaces: make(map[string]map[string]map[*conn]struct{}),
		admits: admissions{
			perPrincipal: make(map[string]int),
			muted:        make(map[string][]*ticket),
			disconnected: make(map[string]uint64),
		},
	}
}

// addLocked indexes c under its site and principals; adding it twice is
// harmless.
func (h *hub) addLocked(c *conn) {
	if _, ok := h.all[c]; ok {
		return
	}
	byPrincipal := h.sites[c.site]
	if byPrincipal == nil {
		byPrincipal = make(map[string]connSet)
		h.sites[c.site] = byPrincipal
	}
	for _, p := range c.principals {
		set := byPrincipal[p]
		set.add(c)
		byPrincipal[p] = set
	}
	h.all[c] = struct{}{}
	h.indexSpacesLocked(c)
}

// removeLocked takes c out of the index; removing it twice is harmless.
func (h *hub) removeLocked(c *conn) {
	if _, ok := h.all[c]; !ok {
		return
	}
	byPrincipal := h.sites[c.site]
	for _, p := range c.principals {
		set := byPrincipal[p]
		set.remove(c)
		if set.empty() {
			delete(byPrincipal, p)
		} else {
			byPrincipal[p] = set
		}
	}
	if len(byPrincipal) == 0 {
		delete(h.sites, c.site)
	}
	delete(h.all, c)
	h.unindexSpacesLocked(c)
}

// len is the number of indexed connections.
func (h *hub) len() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.all)
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

// byPrincipal returns the indexed connections grouped by their own
// principal (the token's sub).
func (h *hub) byPrincipal() map[string][]*conn {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make(map[string][]*conn)
	for c := range h.all {
		if c.principal != "" {
			out[c.principal] = append(out[c.principal], c)
		}
	}
	return out
}

// deliver enqueues it on every connection that may see m: same site
// (case-insensitive), not the sender, at least one principal in the target.
// A connection matching several target principals gets it once; visit, when
// not nil, is called (under the hub's read lock: it must not block) for
// each connection it was enqueued on. It never blocks: a full queue stops
// that connection (see conn.enqueue). Its cost is proportional to the
// number of candidate recipients.
//
// With wakes, the writers are not woken: their connections are added to
// wakes, whose wake does it (Gateway.DeliverDeferred).
func (h *hub) deliver(m *message.Message, it item, visit func(*conn), wakes *wakeList) (delivered, dropped uint64) {
	targets := m.Principals()
	if len(targets) == 0 {
		return 0, 0
	}
	site := strings.ToLower(m.Host) // no allocation when already lower-case
	source := m.SourceID()

	h.mu.RLock()
	defer h.mu.RUnlock()
	byPrincipal := h.sites[site]
	if byPrincipal == nil {
		return 0, 0
	}
	for k, p := range targets {
		for c := range byPrincipal[p].all() {
			if c.principal == source || matchedEarlier(c, targets[:k]) {
				continue
			}
			if c.stopping.Load() || !c.enqueueTo(it, wakes) {
				dropped++
				continue
			}
			if visit != nil {
				visit(c)
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
