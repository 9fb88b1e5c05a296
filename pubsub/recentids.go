package pubsub

// recentIDs is a bounded set of the ids the dispatcher handed to the sink
// most recently; when full, the oldest id is forgotten (FIFO). It is owned
// by the dispatcher goroutine.
type recentIDs struct {
	ring []string // ids in insertion order, a circular buffer
	next int      // the slot the next id goes to (the oldest id when full)
	set  map[string]struct{}
}

func newRecentIDs(n int) *recentIDs {
	return &recentIDs{ring: make([]string, n), set: make(map[string]struct{}, n)}
}

// has reports whether id was added and not forgotten since.
func (r *recentIDs) has(id string) bool {
	_, ok := r.set[id]
	return ok
}

// add remembers id, forgetting the oldest id when the set is full.
func (r *recentIDs) add(id string) {
	if _, ok := r.set[id]; ok {
		return
	}
	if old := r.ring[r.next]; old != "" {
		delete(r.set, old)
	}
	r.ring[r.next] = id
	r.set[id] = struct{}{}
	r.next = (r.next + 1) % len(r.ring)
}
