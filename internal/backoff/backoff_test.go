package backoff

import (
	"context"
	"testing"
	"time"
)

func TestDelayCeilings(t *testing.T) {
	top := func(n int64) int64 { return n - 1 } // the largest value Rand may return
	tests := []struct {
		name   string
		jitter Jitter
		n      int
		want   time.Duration
	}{
		{"full first", Full, 0, 100*time.Millisecond - 1},
		{"full doubles", Full, 2, 400*time.Millisecond - 1},
		{"full capped", Full, 30, time.Second - 1},
		{"huge n does not overflow", Full, 1 << 20, time.Second - 1},
		{"equal first", Equal, 0, 100 * time.Millisecond},
		{"equal capped", Equal, 30, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := Backoff{Min: 100 * time.Millisecond, Max: time.Second, Jitter: tt.jitter, Rand: top}
			if got := b.Delay(tt.n); got != tt.want {
				t.Errorf("Delay(%d) = %v, want %v", tt.n, got, tt.want)
			}
		})
	}
}

func TestDelayFloors(t *testing.T) {
	zero := func(int64) int64 { return 0 }
	full := Backoff{Min: 100 * time.Millisecond, Max: time.Second, Rand: zero}
	if got := full.Delay(3); got != 0 {
		t.Errorf("full jitter floor = %v, want 0", got)
	}
	equal := Backoff{Min: 100 * time.Millisecond, Max: time.Second, Jitter: Equal, Rand: zero}
	if got := equal.Delay(3); got != 400*time.Millisecond {
		t.Errorf("equal jitter floor = %v, want 400ms", got)
	}
}

func TestDefaultRandStaysInRange(t *testing.T) {
	for _, j := range []Jitter{Full, Equal} {
		b := Backoff{Min: time.Millisecond, Max: 8 * time.Millisecond, Jitter: j}
		for n := range 200 {
			d := b.Delay(n % 6)
			if d < 0 || d > 8*time.Millisecond {
				t.Fatalf("jitter %d: Delay = %v out of [0, 8ms]", j, d)
			}
		}
	}
}

func TestNextAndReset(t *testing.T) {
	top := func(n int64) int64 { return n - 1 }
	b := Backoff{Min: 10 * time.Millisecond, Max: 40 * time.Millisecond, Jitter: Equal, Rand: top}
	want := []time.Duration{10, 20, 40, 40}
	for i, w := range want {
		if got := b.Next(); got != w*time.Millisecond {
			t.Fatalf("Next #%d = %v, want %v", i, got, w*time.Millisecond)
		}
	}
	b.Reset()
	if got := b.Next(); got != 10*time.Millisecond {
		t.Errorf("Next after Reset = %v, want 10ms", got)
	}
}

func TestZeroValueWaitsNothing(t *testing.T) {
	var b Backoff
	if got := b.Next(); got != 0 {
		t.Errorf("zero Backoff Next = %v", got)
	}
	if got := b.Delay(4); got != 0 {
		t.Errorf("zero Backoff Delay(4) = %v", got)
	}
}

func TestSleep(t *testing.T) {
	if !Sleep(context.Background(), 0) {
		t.Error("Sleep(0) with a live ctx reported cancellation")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if Sleep(ctx, time.Hour) {
		t.Error("Sleep with a cancelled ctx reported a full wait")
	}
}
