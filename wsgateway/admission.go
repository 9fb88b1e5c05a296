package wsgateway

import "slices"

// admissions is the hub's accounting of connection limits and of admissions
// racing Disconnect. Every field is guarded by hub.mu and changed only
// through a ticket (and hub.disconnect).
//
// A ticket holds a gateway slot from before its token is verified until
// ServeHTTP returns, and a principal slot from right after verification, so
// that limits count connections being set up too, and concurrent handshakes
// cannot overshoot them.
//
// A ticket's admission is open from just before its token is verified until
// its connection is indexed (admit) or will not be (release). A
// token verified before its principal was disconnected must not slip into
// the index after Disconnect scanned it: Disconnect bumps gen and, while
// admissions are open, records the principal's gen; admit refuses a
// connection whose principal was disconnected after its ticket was issued.
// The record is cleared whenever no admission is open, so it stays as small
// as the number of principals disconnected during a burst of handshakes.
type admissions struct {
	total        int                  // tickets held: counted against MaxConnections
	perPrincipal map[string]int       // principal -> slots held; no zero entries
	muted        map[string][]*ticket // principal -> muted tickets holding its slots, oldest mute first; no empty entries
	open         int                  // tickets whose admission is open
	gen          uint64               // Disconnect calls so far
	disconnected map[string]uint64    // principal -> gen of its last Disconnect, while open > 0
}

// ticket is one ServeHTTP call's admission: a gateway slot, then maybe a
// principal slot, then maybe its connection's place in the index. Every
// ticket issued is released exactly once, by release, whatever path the
// handshake took; release gives back everything the ticket still holds.
type ticket struct {
	h   *hub
	gen uint64 // immutable: Disconnect calls when the ticket was issued

	// guarded by h.mu
	open      bool   // the admission is open (counted in admissions.open)
	claimed   bool   // the ticket holds a slot of principal
	principal string // set by claim
	conn      *conn  // indexed by admit, until release or mute
	muted     bool   // its conn was muted (out of the index)
	released  bool
}

// issue takes one of max gateway slots and opens an admission; it returns
// nil when no slot is free. A negative max means no limit. A ticket must be
// given back with release.
func (h *hub) issue(max int) *ticket {
	h.mu.Lock()
	defer h.mu.Unlock()
	a := &h.admits
	if max >= 0 && a.total >= max {
		return nil
	}
	a.total++
	a.open++
	return &ticket{h: h, gen: a.gen, open: true}
}

// claim takes one of principal p's max slots and reports whether it got
// one. When none is free, the oldest muted connection of p gives its slot
// to t and is closed (DisconnectMuteEvicted): a muted connection is the
// first to make room. A negative max means no limit.
func (t *ticket) claim(p string, max int) bool {
	t.h.mu.Lock()
	defer t.h.mu.Unlock()
	a := &t.h.admits
	if t.released || t.claimed {
		return false
	}
	if n := a.perPrincipal[p]; max < 0 || n < max {
		a.perPrincipal[p] = n + 1
	} else if v := a.popMutedLocked(p); v != nil {
		v.claimed = false // its slot is t's now; stop never blocks
		v.conn.stop(stopMuteEvicted)
	} else {
		return false
	}
	t.claimed, t.principal = true, p
	return true
}

// mute takes the ticket's connection out of the delivery index and puts the
// ticket first in line to give its principal slot to a new connection of
// its principal (claim). It does nothing once released.
func (t *ticket) mute() {
	t.h.mu.Lock()
	defer t.h.mu.Unlock()
	if t.released || t.conn == nil || t.muted {
		return
	}
	t.muted = true
	t.h.removeLocked(t.conn)
	if t.claimed {
		a := &t.h.admits
		a.muted[t.principal] = append(a.muted[t.principal], t)
	}
}

// popMutedLocked removes and returns the oldest muted ticket of p, or nil.
func (a *admissions) popMutedLocked(p string) *ticket {
	q := a.muted[p]
	if len(q) == 0 {
		return nil
	}
	a.setMutedLocked(p, q[1:])
	return q[0]
}

// dropMutedLocked removes t from p's muted tickets.
func (a *admissions) dropMutedLocked(p string, t *ticket) {
	if q := a.muted[p]; slices.Contains(q, t) {
		a.setMutedLocked(p, slices.DeleteFunc(slices.Clone(q), func(x *ticket) bool { return x == t }))
	}
}

func (a *admissions) setMutedLocked(p string, q []*ticket) {
	if len(q) == 0 {
		delete(a.muted, p)
		return
	}
	a.muted[p] = q
}

// admit closes the admission and indexes c unless the ticket's principal
// was disconnected since the ticket was issued; it reports whether c was
// indexed. c's principal is the one the ticket claimed.
func (t *ticket) admit(c *conn) bool {
	t.h.mu.Lock()
	defer t.h.mu.Unlock()
	revoked := t.h.admits.disconnected[c.principal] > t.gen
	wasOpen := t.open
	t.closeLocked()
	if revoked || !wasOpen {
		return false
	}
	t.h.addLocked(c)
	t.conn = c
	c.ticket = t
	return true
}

// release takes the ticket's connection out of the index, closes its
// admission and gives back its slots. Later calls do nothing.
func (t *ticket) release() {
	t.h.mu.Lock()
	defer t.h.mu.Unlock()
	if t.released {
		return
	}
	t.released = true
	a := &t.h.admits
	if t.conn != nil {
		t.h.removeLocked(t.conn)
	}
	t.closeLocked()
	if p := t.principal; t.claimed {
		if t.muted {
			a.dropMutedLocked(p, t)
		}
		if n := a.perPrincipal[p] - 1; n > 0 {
			a.perPrincipal[p] = n
		} else {
			delete(a.perPrincipal, p)
		}
	}
	a.total--
}

func (t *ticket) closeLocked() {
	if !t.open {
		return
	}
	t.open = false
	a := &t.h.admits
	a.open--
	if a.open == 0 && len(a.disconnected) > 0 {
		clear(a.disconnected)
	}
}

// disconnect records that principal p was disconnected: a ticket of p
// issued before, and still open, is refused at admit.
func (h *hub) disconnect(p string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	a := &h.admits
	a.gen++
	if a.open > 0 {
		a.disconnected[p] = a.gen
	}
}
