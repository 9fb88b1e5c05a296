package main

import (
	"context"
	"net"
	"sync"
)

// cutter is a client's dialer that remembers the latest TCP connection it
// dialed, so that the order fault can cut it.
type cutter struct {
	mu   sync.Mutex
	conn net.Conn // guarded by mu
}

func (c *cutter) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.conn = conn
	return conn, nil
}

// cut closes the latest connection; the client reconnects.
func (c *cutter) cut() bool {
	c.mu.Lock()
	conn := c.conn
	c.mu.Unlock()
	return conn != nil && conn.Close() == nil
}
