// Package backoff is the one exponential backoff of notifyd: the Redis
// reconnects of package pubsub and the client reconnects of package client
// both use it, with different jitter.
//
// A Backoff is a value owned by one goroutine; it starts no goroutine.
//
// Kept rather than github.com/cenkalti/backoff/v5: its ExponentialBackOff
// draws around the interval (interval ± RandomizationFactor) and has neither
// full jitter, which spreads a fleet of clients cut at once, nor an
// injectable random source for deterministic tests; its Retry loop and
// elapsed-time cap are not used here. It is not a hot path (one delay per
// failed reconnect), so there is nothing to measure; its ninety lines are
// the whole of it.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Jitter chooses how a delay is drawn below its ceiling
// min(Max, Min*2^n) after the n-th consecutive failure.
type Jitter int

const (
	// Full draws uniformly in [0, ceiling): clients, so that a fleet cut at
	// once does not reconnect in lock-step.
	Full Jitter = iota
	// Equal draws uniformly in [ceiling/2, ceiling]: servers, which should
	// wait at least half the ceiling between attempts.
	Equal
)

// Backoff is exponential backoff with jitter. The zero value waits nothing.
type Backoff struct {
	// Min is the ceiling after the first failure.
	Min time.Duration
	// Max caps the ceiling.
	Max time.Duration
	// Jitter is Full (the zero value) or Equal.
	Jitter Jitter
	// Rand returns a uniform value in [0, n). Nil: math/rand/v2.Int64N.
	Rand func(n int64) int64

	failures int // consecutive failures counted by Next
}

// Delay returns the wait after the n-th consecutive failure (n from 0),
// without changing b.
func (b *Backoff) Delay(n int) time.Duration {
	ceil := b.Min
	for i := 0; i < n && ceil < b.Max; i++ {
		ceil *= 2
	}
	ceil = min(ceil, b.Max)
	if ceil <= 0 {
		return 0
	}
	r := b.Rand
	if r == nil {
		r = rand.Int64N
	}
	if b.Jitter == Equal {
		half := ceil / 2
		return half + time.Duration(r(int64(ceil-half)+1))
	}
	return time.Duration(r(int64(ceil)))
}

// Next counts a failure and returns the wait before the next attempt.
func (b *Backoff) Next() time.Duration {
	d := b.Delay(b.failures)
	b.failures++
	return d
}

// Reset starts again from Min after a success.
func (b *Backoff) Reset() { b.failures = 0 }

// Sleep waits d or until ctx is done, and reports whether it waited all of d.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
