package client

// recent is a bounded set of message ids: adding to a full set forgets the
// oldest id. It is owned by Run's goroutine.
type recent struct {
	ring []string
	next int
	set  map[string]struct{}
}

// newRecent returns a set of capacity n; n <= 0 remembers nothing.
func newRecent(n int) *recent {
	n = max(n, 0)
	return &recent{ring: make([]string, n), set: make(map[string]struct{}, n)}
}

// add records id and reports whether it was new.
func (r *recent) add(id string) bool {
	if len(r.ring) == 0 {
		return true
	}
	if _, seen := r.set[id]; seen {
		return false
	}
	if old := r.ring[r.next]; old != "" {
		delete(r.set, old)
	}
	r.ring[r.next] = id
	r.next = (r.next + 1) % len(r.ring)
	r.set[id] = struct{}{}
	return true
}
