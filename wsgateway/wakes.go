package wsgateway

import "sync"

// wakeList holds the connections whose writers Gateway.DeliverDeferred
// left asleep, until EndBatch wakes them (pubsub.BatchSink). A connection
// is listed once however many messages of the batch it got.
type wakeList struct {
	mu sync.Mutex
	// guarded by mu
	conns []*conn
	spare []*conn // the other buffer, so that batches do not allocate
}

// add lists c unless it is listed already.
func (w *wakeList) add(c *conn) {
	if c.wakeListed.Swap(true) {
		return
	}
	w.mu.Lock()
	w.conns = append(w.conns, c)
	w.mu.Unlock()
}

// wake wakes the writer of every listed connection and empties the list.
func (w *wakeList) wake() {
	w.mu.Lock()
	conns := w.conns
	w.conns = w.spare[:0]
	w.spare = nil
	w.mu.Unlock()
	for i, c := range conns {
		c.wakeListed.Store(false) // before the signal: a later add lists it again
		c.send.signal()
		conns[i] = nil
	}
	w.mu.Lock()
	if w.spare == nil && cap(conns) <= 1<<16 {
		w.spare = conns[:0]
	}
	w.mu.Unlock()
}
