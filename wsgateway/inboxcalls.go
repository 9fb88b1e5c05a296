package wsgateway

import (
	"context"
	"slices"
	"sync"
)

// inboxCalls cancels a connection's Inbox calls in flight when the
// connection ends (end). It replaces a context.WithCancel per connection,
// whose done channel and children map stayed with an idle connection after
// its first call (about 400 bytes; issue 9): it holds nothing while no
// call is in flight. Safe for concurrent use; end may be called more than
// once; a nil *inboxCalls (no inbox) watches nothing.
type inboxCalls struct {
	mu      sync.Mutex
	ended   bool
	cancels []*context.CancelFunc // the calls in flight
}

// watch arranges for cancel to be called when the connection ends, at
// once if it has, and returns what undoes that when the call is over.
func (ic *inboxCalls) watch(cancel context.CancelFunc) (unwatch func()) {
	if ic == nil {
		return func() {}
	}
	ic.mu.Lock()
	if ic.ended {
		ic.mu.Unlock()
		cancel()
		return func() {}
	}
	p := &cancel
	ic.cancels = append(ic.cancels, p)
	ic.mu.Unlock()
	return func() {
		ic.mu.Lock()
		if i := slices.Index(ic.cancels, p); i >= 0 {
			ic.cancels = slices.Delete(ic.cancels, i, i+1)
		}
		if len(ic.cancels) == 0 {
			ic.cancels = nil // an idle connection keeps no slice
		}
		ic.mu.Unlock()
	}
}

// end cancels the calls in flight and every later one.
func (ic *inboxCalls) end() {
	if ic == nil {
		return
	}
	ic.mu.Lock()
	cancels := ic.cancels
	ic.cancels, ic.ended = nil, true
	ic.mu.Unlock()
	for _, cancel := range cancels {
		(*cancel)()
	}
}
