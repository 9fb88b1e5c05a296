package webhook

import (
	"sync"
	"time"
)

// maxBreakers bounds the breaker's map; it is emptied when full.
const maxBreakers = 10_000

// breaker remembers, per registration, until when its endpoint is deemed
// down after a failed attempt, so that the other jobs of that registration
// wait in the retry set instead of each spending a worker on an attempt
// bound to fail (a black-holed endpoint costs Timeout per attempt). It is
// local to one dispatcher.
type breaker struct {
	mu    sync.Mutex // guards until
	until map[string]time.Time
}

// open reports whether reg's endpoint is deemed down at now, and until when.
func (b *breaker) open(reg string, now time.Time) (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	u, ok := b.until[reg]
	if ok && !now.Before(u) {
		delete(b.until, reg)
		return time.Time{}, false
	}
	return u, ok
}

// trip deems reg's endpoint down until u.
func (b *breaker) trip(reg string, u time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.until == nil || len(b.until) >= maxBreakers {
		b.until = make(map[string]time.Time)
	}
	b.until[reg] = u
}

// close forgets reg after an answer that was not a failure to retry.
func (b *breaker) close(reg string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.until, reg)
}
