// Package limit provides keyed token-bucket rate limiters with a bounded
// number of keys, for per-client-address and per-token limits.
//
// A Keyed is safe for concurrent use. It starts no goroutine: idle buckets
// are swept lazily while new keys are added.
package limit

import (
	"sync"
	"time"
)

// Config configures a Keyed limiter.
type Config struct {
	// Rate is the sustained number of events per second per key. Zero or
	// negative disables the limiter: Allow always returns true.
	Rate float64
	// Burst is the bucket size. Zero value: max(1, ceil(Rate)).
	Burst int
	// MaxKeys bounds memory. When full, buckets idle long enough to be full
	// again are swept; if none is, the new key is refused (fail closed).
	// Zero value: 100000.
	MaxKeys int
	// Now returns the current time. Zero value: time.Now.
	Now func() time.Time
}

// Keyed is a set of token buckets, one per key.
type Keyed struct {
	// immutable after New
	rate    float64
	burst   float64
	maxKeys int
	now     func() time.Time

	mu      sync.Mutex // guards buckets
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// New returns a limiter for cfg.
func New(cfg Config) *Keyed {
	k := &Keyed{rate: cfg.Rate, burst: float64(cfg.Burst), maxKeys: cfg.MaxKeys, now: cfg.Now}
	if k.burst <= 0 {
		k.burst = max(1, float64(int(cfg.Rate+0.999999)))
	}
	if k.maxKeys <= 0 {
		k.maxKeys = 100000
	}
	if k.now == nil {
		k.now = time.Now
	}
	k.buckets = make(map[string]*bucket)
	return k
}

// Enabled reports whether the limiter limits anything.
func (k *Keyed) Enabled() bool { return k != nil && k.rate > 0 }

// Allow takes one token from key's bucket and reports whether there was one.
func (k *Keyed) Allow(key string) bool {
	if !k.Enabled() {
		return true
	}
	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	b, ok := k.buckets[key]
	if !ok {
		if len(k.buckets) >= k.maxKeys && !k.sweepLocked(now) {
			return false
		}
		b = &bucket{tokens: k.burst, last: now}
		k.buckets[key] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = min(k.burst, b.tokens+elapsed*k.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// sweepLocked drops buckets that have refilled completely (forgetting them
// changes nothing) and reports whether room was made.
func (k *Keyed) sweepLocked(now time.Time) bool {
	full := time.Duration(k.burst / k.rate * float64(time.Second))
	for key, b := range k.buckets {
		if now.Sub(b.last) >= full {
			delete(k.buckets, key)
		}
	}
	return len(k.buckets) < k.maxKeys
}

// Len is the number of keys currently tracked.
func (k *Keyed) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.buckets)
}
