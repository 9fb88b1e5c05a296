package client

import (
	"context"
	"time"
)

// Run connects and keeps reconnecting until ctx ends, then closes the
// connection with 1000 and returns nil. Each failure waits a full-jitter
// backoff; an established connection resets it. It returns ErrRunning when
// called while another Run of the same client is active.
func (c *Client) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer c.running.Store(false)
	defer c.startListeners()()

	failures := 0
	refresh := false
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for ctx.Err() == nil {
		url := c.urls[c.urlIdx]
		o := c.attempt(ctx, url, refresh)
		if ctx.Err() != nil {
			break
		}
		refresh = o.refresh
		if o.established {
			failures = 0
		}
		if o.move {
			c.urlIdx = (c.urlIdx + 1) % len(c.urls)
		}
		wait := c.bo.Delay(failures)
		failures++
		c.cfg.Logger.Info("client: reconnecting", "url", url, "err", o.err, "refresh", refresh,
			"wait", wait, "next_url", c.urls[c.urlIdx])
		if timer == nil {
			timer = time.NewTimer(wait)
		} else {
			timer.Reset(wait)
		}
		select {
		case <-ctx.Done():
		case <-timer.C:
		}
	}
	return nil
}

// outcome is how one attempt ended and what the next one should do.
type outcome struct {
	err         error
	established bool // the connection got a PONG or a message: reset the backoff
	refresh     bool // the token was refused: the next Token call must refresh
	move        bool // try the next URL
}
