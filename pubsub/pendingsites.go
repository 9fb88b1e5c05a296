package pubsub

import (
	"sync"
	"sync/atomic"
)

// pendingSites counts, per site, the history entries the dispatcher handed
// to the retry writer that the writer has not settled yet (stored, or
// dropped). While a site has some, the dispatcher hands the site's new
// entries to the writer too instead of storing them itself: they must not
// overtake the older ones. The dispatcher adds (before it hands an entry
// over) and the writer removes, so a site without pending entries has
// nothing older in flight. It keeps the HistoryPending gauge. Safe for
// concurrent use.
type pendingSites struct {
	gauge *atomic.Uint64 // the subscriber's HistoryPending

	mu    sync.Mutex     // guards the fields below
	sites map[string]int // entries per siteKey; only sites with entries
	total int
}

func newPendingSites(gauge *atomic.Uint64) *pendingSites {
	return &pendingSites{gauge: gauge, sites: make(map[string]int)}
}

// has reports whether host has entries the writer has not settled.
func (p *pendingSites) has(host string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sites[siteKey(host)] > 0
}

// add counts one more entry of host.
func (p *pendingSites) add(host string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sites[siteKey(host)]++
	p.total++
	p.gauge.Store(uint64(p.total))
}

// done counts one entry of host settled.
func (p *pendingSites) done(host string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := siteKey(host)
	switch n := p.sites[key]; {
	case n <= 0:
		return // cannot happen: every done follows an add
	case n == 1:
		delete(p.sites, key)
	default:
		p.sites[key] = n - 1
	}
	p.total--
	p.gauge.Store(uint64(p.total))
}
