package client

import "sync"

// listenerQueue bounds the listener calls waiting for the listeners'
// goroutine. When it is full the reader waits, as it would for a slow
// listener called inline: the gateway then sees a slow reader.
const listenerQueue = 256

// The listeners run on one goroutine that Run owns, in the order the reader
// emits them, so that a listener may call a command: the reader, which
// hands over the answers, keeps reading while the listener waits.

// startListeners starts the listeners' goroutine; the returned func stops
// it once every call emitted was made. Run's goroutine.
func (c *Client) startListeners() (stop func()) {
	c.events = make(chan func(), listenerQueue)
	var wg sync.WaitGroup
	events := c.events
	wg.Go(func() {
		for f := range events {
			f()
		}
	})
	return func() {
		close(events)
		wg.Wait()
		c.events = nil
	}
}

// emit queues a listener call, or makes it at once outside Run. Run's
// goroutine.
func (c *Client) emit(f func()) {
	if c.events == nil {
		f()
		return
	}
	c.events <- f
}
