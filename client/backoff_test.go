package client

import (
	"testing"
	"time"
)

func TestBackoffDelay(t *testing.T) {
	t.Parallel()
	top := func(n int64) int64 { return n - 1 } // the largest value rand may return
	zero := func(int64) int64 { return 0 }
	tests := []struct {
		name     string
		min, max time.Duration
		n        int
		rand     func(int64) int64
		want     time.Duration
	}{
		{"first failure is below min", 250 * time.Millisecond, 10 * time.Second, 0, top, 250*time.Millisecond - 1},
		{"doubles", 250 * time.Millisecond, 10 * time.Second, 3, top, 2*time.Second - 1},
		{"capped at max", 250 * time.Millisecond, 10 * time.Second, 10, top, 10*time.Second - 1},
		{"huge n does not overflow", 250 * time.Millisecond, 10 * time.Second, 1 << 20, top, 10*time.Second - 1},
		{"full jitter reaches zero", 250 * time.Millisecond, 10 * time.Second, 5, zero, 0},
		{"zero min never waits", 0, 0, 4, top, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := backoff{min: tt.min, max: tt.max, rand: tt.rand}
			if got := b.delay(tt.n); got != tt.want {
				t.Fatalf("delay(%d) = %v, want %v", tt.n, got, tt.want)
			}
		})
	}
}

func TestBackoffDefaultRandStaysInRange(t *testing.T) {
	t.Parallel()
	b := backoff{min: time.Millisecond, max: 8 * time.Millisecond}
	for n := range 100 {
		ceil := min(time.Millisecond<<min(n, 10), 8*time.Millisecond)
		if d := b.delay(n); d < 0 || d >= ceil {
			t.Fatalf("delay(%d) = %v, want in [0, %v)", n, d, ceil)
		}
	}
}
