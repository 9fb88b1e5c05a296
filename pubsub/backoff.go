package pubsub

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff defaults.
const (
	// DefaultBackoffMin is the first delay after a Redis error.
	DefaultBackoffMin = 100 * time.Millisecond
	// DefaultBackoffMax caps the delay between attempts.
	DefaultBackoffMax = 5 * time.Second
)

// backoff is a jittered exponential delay: each call to next doubles the base
// from min up to max and returns a random delay in [base/2, base]. It is owned
// by one goroutine.
type backoff struct {
	min, max time.Duration
	base     time.Duration // 0 until the first failure
}

func (b *backoff) next() time.Duration {
	if b.base == 0 {
		b.base = b.min
	} else {
		b.base = min(2*b.base, b.max)
	}
	half := b.base / 2
	return half + rand.N(b.base-half+1)
}

// reset starts again from min after a success.
func (b *backoff) reset() { b.base = 0 }

// sleep waits d or until ctx is done, and reports whether it waited all of d.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
