package client

import (
	"math/rand/v2"
	"time"
)

// backoff is full-jitter exponential backoff: the wait after the n-th
// consecutive failure (n from 0) is uniform in [0, min(max, min*2^n)).
type backoff struct {
	min, max time.Duration
	rand     func(n int64) int64 // uniform in [0, n); rand.Int64N by default
}

// delay returns the wait after the n-th consecutive failure.
func (b backoff) delay(n int) time.Duration {
	ceil := b.min
	for i := 0; i < n && ceil < b.max; i++ {
		ceil *= 2
	}
	ceil = min(ceil, b.max)
	if ceil <= 0 {
		return 0
	}
	r := b.rand
	if r == nil {
		r = rand.Int64N
	}
	return time.Duration(r(int64(ceil)))
}
