package pubsub

import "sync"

// itemQueue is the queue between the read loop and the dispatcher. It
// grows on demand, so that a burst the dispatcher is merely behind on is
// held instead of dropped, up to maxItems payloads or maxBytes bytes of
// payload (QueueSize, QueueBytes): beyond either, push refuses a payload
// and the read loop drops it (DropQueueFull). A gap-fill marker is always
// accepted. Safe for one pushing and one taking goroutine.
type itemQueue struct {
	// immutable after newItemQueue
	maxItems, maxBytes int
	ready              chan struct{} // capacity 1: items (or the close) arrived since the last take

	mu     sync.Mutex // guards the fields below
	items  []item     // items[head:] are queued, oldest first
	head   int
	bytes  int // payload bytes queued
	closed bool
}

func newItemQueue(maxItems, maxBytes int) *itemQueue {
	return &itemQueue{maxItems: maxItems, maxBytes: maxBytes, ready: make(chan struct{}, 1)}
}

// push queues it unless it is a payload and the queue is full; it reports
// whether it queued it. It never blocks.
func (q *itemQueue) push(it item) bool {
	q.mu.Lock()
	n := len(q.items) - q.head
	if !it.fill && (n >= q.maxItems || q.bytes+len(it.payload) > q.maxBytes) {
		q.mu.Unlock()
		return false
	}
	if q.head > 0 && q.head >= n {
		// More taken than queued: move what is queued to the front
		// rather than grow the array behind the taken part.
		copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	q.items = append(q.items, it)
	q.bytes += len(it.payload)
	q.mu.Unlock()
	q.signal()
	return true
}

// close marks the end of the stream: take reports it once the queue is
// empty.
func (q *itemQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

func (q *itemQueue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// take appends to buf, in order, up to max queued items, stopping after a
// gap-fill marker (the fill runs once the payloads before it are
// dispatched). When items are left, ready is signalled again for them.
// done reports that the queue is closed and empty.
func (q *itemQueue) take(buf []item, max int) (out []item, done bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	queued := q.items[q.head:]
	n := min(max, len(queued))
	for i, it := range queued[:n] {
		if it.fill {
			n = i + 1
			break
		}
	}
	for _, it := range queued[:n] {
		q.bytes -= len(it.payload)
	}
	out = append(buf, queued[:n]...)
	clear(queued[:n]) // let the payloads be collected
	q.head += n
	switch {
	case q.head < len(q.items):
		q.signal()
	case cap(q.items) > shrinkItems:
		q.items, q.head = nil, 0 // empty after a burst: give the array back
	default:
		q.items, q.head = q.items[:0], 0
	}
	return out, q.closed && q.head == len(q.items)
}

// shrinkItems is the capacity of the queue's array kept once it is empty;
// a larger one (after a burst) is released.
const shrinkItems = 4096

// len returns how many items are queued.
func (q *itemQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) - q.head
}
