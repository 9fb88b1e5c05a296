package pubsub

import (
	"sync"
	"sync/atomic"
	"time"
)

// fillQueue holds the gap fill requested by the read loop until the
// dispatcher runs it. Requests merge: the earliest loss wins, so one fill
// covers every outage since the last one. Safe for concurrent use.
type fillQueue struct {
	// queued is true while a marker is in the raw queue: set by the read
	// loop when it queues one, cleared by the dispatcher when it takes it.
	queued atomic.Bool

	mu      sync.Mutex // guards the fields below
	pending bool
	lostAt  time.Time           // earliest loss not yet filled
	retry   map[string]struct{} // sites whose history could not be read
}

// add merges a request for the sites the dispatcher knows, plus retry.
func (q *fillQueue) add(lostAt time.Time, retry []string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.pending || lostAt.Before(q.lostAt) {
		q.lostAt = lostAt
	}
	q.pending = true
	for _, host := range retry {
		if q.retry == nil {
			q.retry = make(map[string]struct{})
		}
		q.retry[host] = struct{}{}
	}
}

// take returns the pending request and clears it.
func (q *fillQueue) take() (lostAt time.Time, retry map[string]struct{}, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	lostAt, retry, ok = q.lostAt, q.retry, q.pending
	q.pending, q.lostAt, q.retry = false, time.Time{}, nil
	return lostAt, retry, ok
}

// request asks the dispatcher, from the read loop after a
// resubscription, to fill the gap since lostAt: it records the request and
// queues a marker behind the payloads already queued, so the fill runs
// after them and before the payloads read from the new subscription.
//
// The marker never blocks and is never dropped (itemQueue.push always
// takes a marker), and at most one marker is queued at a time. A request
// made while a marker is queued merges into it. The dispatcher clears
// queued before it takes the request, so a request is either taken by the
// fill of the marker already queued or gets a marker of its own.
func (q *fillQueue) request(out *itemQueue, lostAt time.Time) {
	q.add(lostAt, nil)
	if !q.queued.CompareAndSwap(false, true) {
		return
	}
	out.push(item{fill: true})
}
