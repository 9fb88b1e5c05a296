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

	mu      sync.Mutex // guards buckets and fullUntil
	buckets map[string]*Bucket
	// fullUntil is, after a sweep that found no bucket full again, when
	// the first one will be: until then a new key is refused without
	// scanning the buckets (a flood of new keys at MaxKeys would otherwise
	// cost a scan of every bucket per key, under mu).
	fullUntil time.Time
}

// Bucket is one token bucket: full at its first use, refilled at rate
// tokens per second up to burst. The zero value is ready; it is not safe
// for concurrent use (Keyed guards its own; a connection's reader owns its
// command buckets).
type Bucket struct {
	tokens float64
	last   time.Time
}

// Take refills b for the time since its last use, then takes one token. It
// reports whether there was one; when there was not, wait is how long until
// there will be (at least 1ns). rate must be positive.
func (b *Bucket) Take(now time.Time, rate, burst float64) (ok bool, wait time.Duration) {
	if b.last.IsZero() {
		b.tokens, b.last = burst, now
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = min(burst, b.tokens+elapsed*rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false, tokenTime(1-b.tokens, rate)
	}
	b.tokens--
	return true, 0
}

// tokenTime is how long a bucket takes to gain tokens at rate, at least 1ns.
func tokenTime(tokens, rate float64) time.Duration {
	return max(time.Nanosecond, time.Duration(tokens/rate*float64(time.Second)))
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
	k.buckets = make(map[string]*Bucket)
	return k
}

// Enabled reports whether the limiter limits anything.
func (k *Keyed) Enabled() bool { return k != nil && k.rate > 0 }

// Allow takes one token from key's bucket and reports whether there was one.
func (k *Keyed) Allow(key string) bool {
	ok, _ := k.Take(key)
	return ok
}

// Take takes one token from key's bucket and reports whether there was one;
// when there was not, wait is how long until there will be (for a key
// refused because the limiter is full of busy keys: until one of them is
// full again and can be forgotten). wait is 0 when ok.
func (k *Keyed) Take(key string) (ok bool, wait time.Duration) {
	if !k.Enabled() {
		return true, 0
	}
	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	b, ok := k.buckets[key]
	if !ok {
		if len(k.buckets) >= k.maxKeys {
			if now.Before(k.fullUntil) {
				return false, k.fullUntil.Sub(now)
			}
			if wait := k.sweepLocked(now); wait > 0 {
				k.fullUntil = now.Add(wait)
				return false, wait
			}
		}
		b = &Bucket{}
		k.buckets[key] = b
	}
	return b.Take(now, k.rate, k.burst)
}

// sweepLocked drops buckets that have refilled completely (forgetting them
// changes nothing). It returns 0 when that made room, else how long until
// the first bucket is full. No bucket fills up sooner than that (taking
// tokens only delays it), so the caller need not sweep again before.
func (k *Keyed) sweepLocked(now time.Time) time.Duration {
	var soonest float64 // tokens the fullest remaining bucket lacks
	for key, b := range k.buckets {
		lack := k.burst - b.tokens - now.Sub(b.last).Seconds()*k.rate
		if lack <= 0 {
			delete(k.buckets, key)
		} else if soonest == 0 || lack < soonest {
			soonest = lack
		}
	}
	if len(k.buckets) < k.maxKeys {
		return 0
	}
	return k.duration(soonest)
}

// duration is how long a bucket takes to gain tokens, at least 1ns.
func (k *Keyed) duration(tokens float64) time.Duration { return tokenTime(tokens, k.rate) }

// Len is the number of keys currently tracked.
func (k *Keyed) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.buckets)
}
