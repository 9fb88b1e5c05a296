package wsgateway

import "sync"

// queue is a connection's bounded queue of frames: Deliver, the reader
// and the pinger push without blocking, the writer takes everything queued
// at once. It holds no memory while empty (the buffers are allocated on
// demand and dropped once drained when they grew large), so an idle
// connection costs a mutex, two nil slices and a one-slot channel, not a
// buffer of QueueSize items (issue 9: memory per idle connection).
type queue struct {
	wake chan struct{} // capacity 1: something was pushed since the last take
	kick func()        // called by signal after wake is set: starts the writer (conn.kick); may be nil

	mu sync.Mutex
	// guarded by mu
	items []item
	limit int
}

// keepCap is the largest buffer a drained queue keeps for its next burst.
const keepCap = 64

func newQueue(limit int) *queue {
	return &queue{wake: make(chan struct{}, 1), limit: limit}
}

// push appends it and wakes the writer; it reports false, and appends
// nothing, when limit items are already waiting.
func (q *queue) push(it item) bool { return q.pushUpTo(it, q.limit) }

// pushUpTo is push with another limit.
func (q *queue) pushUpTo(it item, limit int) bool {
	if !q.pushQuiet(it, limit) {
		return false
	}
	q.signal()
	return true
}

// pushQuiet appends it without waking the writer: the caller calls signal.
func (q *queue) pushQuiet(it item, limit int) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) >= limit {
		return false
	}
	q.items = append(q.items, it)
	return true
}

// signal wakes the writer.
func (q *queue) signal() {
	select {
	case q.wake <- struct{}{}:
	default: // already awake
	}
	if q.kick != nil {
		q.kick()
	}
}

// take returns everything queued, oldest first, and leaves spare (emptied)
// in its place, so that the writer's two buffers alternate without
// allocating. The caller owns the returned slice until its next take.
//
// A spare larger than keepCap is kept only while the queue fills at least
// half of it: the connection is behind, and growing its buffer again from
// nothing on every take cost a broadcast at 1000 msg/s 4 % of its CPU (and
// the garbage collector more); the writer drops it once it has caught up
// (shrink), so that an idle connection keeps no large buffer.
func (q *queue) take(spare []item) []item {
	clear(spare)
	q.mu.Lock()
	items := q.items
	if cap(spare) > keepCap && len(items) < cap(spare)/2 {
		spare = nil
	}
	q.items = spare[:0:cap(spare)]
	if cap(spare) == 0 {
		q.items = nil
	}
	q.mu.Unlock()
	return items
}

// shrink drops the queue's buffer when it is empty and larger than keepCap.
func (q *queue) shrink() {
	q.mu.Lock()
	if len(q.items) == 0 && cap(q.items) > keepCap {
		q.items = nil
	}
	q.mu.Unlock()
}

// len is the number of items waiting.
func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}
