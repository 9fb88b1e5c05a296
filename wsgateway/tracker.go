package wsgateway

import "sync"

// tracker follows every running ServeHTTP call and every upgraded
// connection, indexed or not, so that Shutdown can refuse new calls, reach
// every socket and join every call, and Disconnect can reach connections
// still in their handshake.
type tracker struct {
	// calls counts running ServeHTTP calls. Add is called only under mu
	// while closed is false, so the Wait that follows setting closed never
	// races an Add from zero.
	calls sync.WaitGroup

	mu sync.Mutex
	// guarded by mu
	closed bool               // Shutdown began: enter and attach refuse
	conns  map[*conn]struct{} // every upgraded connection
}

func newTracker() *tracker {
	return &tracker{conns: make(map[*conn]struct{})}
}

// enter registers a ServeHTTP call; it reports false once closed. A true
// result must be paired with leave.
func (t *tracker) enter() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.calls.Add(1)
	return true
}

// leave ends a ServeHTTP call registered by enter.
func (t *tracker) leave() { t.calls.Done() }

// wait returns once every call registered by enter has left; call it after
// close.
func (t *tracker) wait() { t.calls.Wait() }

// attach records an upgraded connection so that Shutdown can reach it, and
// reports whether the tracker is still open. It must be paired with detach.
func (t *tracker) attach(c *conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.conns[c] = struct{}{}
	return !t.closed
}

// detach forgets a connection recorded by attach.
func (t *tracker) detach(c *conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.conns, c)
}

// close refuses further enter and attach calls and returns every attached
// connection.
func (t *tracker) close() []*conn {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	return t.matchLocked(func(*conn) bool { return true })
}

// all returns every attached connection.
func (t *tracker) all() []*conn { return t.match(func(*conn) bool { return true }) }

// of returns the attached connections whose own principal is p: admitted
// ones and those between the upgrade and admit.
func (t *tracker) of(p string) []*conn {
	return t.match(func(c *conn) bool { return c.principal == p }) // a rare administrative act: a scan is fine
}

func (t *tracker) match(keep func(*conn) bool) []*conn {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.matchLocked(keep)
}

func (t *tracker) matchLocked(keep func(*conn) bool) []*conn {
	var conns []*conn
	for c := range t.conns {
		if keep(c) {
			conns = append(conns, c)
		}
	}
	return conns
}
