package wsgateway

import (
	"context"
	"sync"

	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/protocol"
)

// acker coalesces a connection's acks (delivery cursors, ?device=): the
// reader offers each acknowledged id, the connection's ack loop writes the
// latest one with Inbox.Ack. At most one Ack call is in flight per
// connection; ids offered meanwhile replace each other, the latest wins.
type acker struct {
	wake chan struct{} // capacity 1: an id is pending

	mu sync.Mutex
	// guarded by mu
	pending string // the latest id not written yet; "" when none
}

func newAcker() *acker { return &acker{wake: make(chan struct{}, 1)} }

// offer makes id the pending ack and wakes the ack loop. It never blocks.
func (a *acker) offer(id string) {
	a.mu.Lock()
	a.pending = id
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default: // already awake: it will take the latest id
	}
}

// take returns the pending id and clears it.
func (a *acker) take() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	id := a.pending
	a.pending = ""
	return id
}

// ack handles an inbound text frame that is not PING: an ack frame of a
// connection that has a device is offered to its acker; anything else is
// not an ack, and the caller ignores it.
func (c *conn) ack(data []byte) bool {
	if c.acks == nil {
		return false
	}
	id, ok := protocol.ParseAck(data)
	if !ok || !message.ValidID(id) {
		return false
	}
	c.env.stats.acks.Add(1)
	c.acks.offer(id)
	return true
}

// ackLoop writes c's acks, one at a time, until c ends; then it writes the
// last pending one, so that an ack sent right before the client closed is
// kept. It is started by run for a connection with a device, and joined.
func (c *conn) ackLoop(ctx context.Context) {
	for {
		select {
		case <-c.acks.wake:
			c.writeAck(ctx)
		case <-c.readDone:
			c.writeAck(ctx)
			return
		case <-c.closing:
			c.writeAck(ctx)
			return
		}
	}
}

// writeAck writes the pending ack, if any, within InboxTimeout.
func (c *conn) writeAck(ctx context.Context) {
	id := c.acks.take()
	if id == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, c.env.inboxTimeout)
	defer cancel()
	if err := c.env.inbox.Ack(ctx, c.reader, c.device, id); err != nil {
		c.inboxFailed("ack", err)
	}
}
