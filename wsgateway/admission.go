package wsgateway

// slots is the hub's accounting for connection limits and for admissions
// racing Disconnect. Every field is guarded by hub.mu.
//
// A connection holds a gateway slot from before its token is verified until
// ServeHTTP returns, and a principal slot from right after verification, so
// that limits count connections being set up too, and concurrent handshakes
// cannot overshoot them.
//
// An admission runs from just before the token is verified to the moment the
// connection is indexed (admit) or given up (abandonAdmission). A token
// verified before its principal was disconnected must not slip into the index
// after Disconnect scanned it: Disconnect bumps gen and, while admissions are
// running, records the principal's gen; admit refuses a connection whose
// principal was disconnected after its admission began. The record is
// cleared whenever no admission is running, so it stays as small as the
// number of principals disconnected during a burst of handshakes.
type slots struct {
	total        int               // connections counted against MaxConnections
	perPrincipal map[string]int    // principal -> connections; no zero entries
	admitting    int               // admissions running
	gen          uint64            // Disconnect calls so far
	disconnected map[string]uint64 // principal -> gen of its last Disconnect, while admitting > 0
}

// reserve takes one of max gateway slots and reports whether one was free.
// A negative max means no limit. A true result must be paired with release.
func (h *hub) reserve(max int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if max >= 0 && h.slots.total >= max {
		return false
	}
	h.slots.total++
	return true
}

// release returns a slot taken by reserve.
func (h *hub) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.slots.total--
}

// reservePrincipal takes one of principal p's max slots and reports whether
// one was free. A negative max means no limit. A true result must be paired
// with releasePrincipal.
func (h *hub) reservePrincipal(p string, max int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := h.slots.perPrincipal[p]
	if max >= 0 && n >= max {
		return false
	}
	h.slots.perPrincipal[p] = n + 1
	return true
}

// releasePrincipal returns a slot taken by reservePrincipal.
func (h *hub) releasePrincipal(p string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if n := h.slots.perPrincipal[p] - 1; n > 0 {
		h.slots.perPrincipal[p] = n
	} else {
		delete(h.slots.perPrincipal, p)
	}
}

// beginAdmission starts an admission and returns its generation. It must be
// followed by exactly one of admit or abandonAdmission.
func (h *hub) beginAdmission() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.slots.admitting++
	return h.slots.gen
}

// abandonAdmission ends an admission that will not index a connection.
func (h *hub) abandonAdmission() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.endAdmissionLocked()
}

// admit ends c's admission, begun at generation gen, and indexes c unless
// its principal was disconnected since; it reports whether c was indexed.
func (h *hub) admit(c *conn, gen uint64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	revoked := h.slots.disconnected[c.principal] > gen
	h.endAdmissionLocked()
	if revoked {
		return false
	}
	h.addLocked(c)
	return true
}

func (h *hub) endAdmissionLocked() {
	h.slots.admitting--
	if h.slots.admitting == 0 && len(h.slots.disconnected) > 0 {
		clear(h.slots.disconnected)
	}
}

// disconnect records that principal p was disconnected (see slots) and
// returns its attached connections: registered ones and those between the
// upgrade and admit.
func (h *hub) disconnect(p string) []*conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.slots.gen++
	if h.slots.admitting > 0 {
		h.slots.disconnected[p] = h.slots.gen
	}
	var conns []*conn
	for c := range h.all { // a rare administrative act: a scan is fine
		if c.principal == p {
			conns = append(conns, c)
		}
	}
	return conns
}
