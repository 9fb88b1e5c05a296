package client

import (
	"context"

	"github.com/coder/websocket"
	"github.com/notifyd/notifyd/protocol"
)

// Acks (Config.Device): the reader offers the id of each notification once
// OnMessage returned; the pinger writes the newest one. Ids offered while
// an ack is being written replace each other: the server keeps only the
// newest anyway.

// offerAck makes id the next ack and wakes the pinger. The listeners'
// goroutine; it never blocks.
func (cn *conn) offerAck(id string) {
	cn.mu.Lock()
	cn.ack = id
	cn.mu.Unlock()
	select {
	case cn.ackWake <- struct{}{}:
	default: // already signalled: the pinger takes the newest id
	}
}

// writeAck writes the pending ack, if any. The pinger's goroutine.
func (c *Client) writeAck(cn *conn) bool {
	cn.mu.Lock()
	id := cn.ack
	cn.ack = ""
	cn.mu.Unlock()
	if id == "" {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.WriteTimeout)
	defer cancel()
	if err := cn.ws.Write(ctx, websocket.MessageText, protocol.AckFrame(id)); err != nil {
		return false // the reader sees the failure
	}
	c.stats.acks.Add(1)
	return true
}
