package hist

import (
	"slices"
	"sync"
	"testing"
	"time"
)

func TestObserveBuckets(t *testing.T) {
	t.Parallel()
	h := New(time.Millisecond, 10*time.Millisecond)
	for _, d := range []time.Duration{-time.Second, 0, time.Millisecond, time.Millisecond + 1, 10 * time.Millisecond, time.Hour} {
		h.Observe(d)
	}
	s := h.Snapshot()
	if want := []uint64{3, 2, 1}; !slices.Equal(s.Counts, want) {
		t.Fatalf("Counts = %v, want %v (negative as zero, bounds inclusive)", s.Counts, want)
	}
	if want := []uint64{3, 5}; !slices.Equal(s.Cumulative(), want) {
		t.Fatalf("Cumulative = %v, want %v", s.Cumulative(), want)
	}
	if s.Count != 6 {
		t.Fatalf("Count = %d, want 6", s.Count)
	}
	if want := 2*time.Millisecond + 1 + 10*time.Millisecond + time.Hour; s.Sum != want {
		t.Fatalf("Sum = %v, want %v", s.Sum, want)
	}
}

func TestNewDefaultsAndValidates(t *testing.T) {
	t.Parallel()
	if got := New().Snapshot().Bounds; !slices.Equal(got, LatencyBounds) {
		t.Fatalf("default bounds = %v", got)
	}
	for _, bad := range [][]time.Duration{{0}, {-time.Second}, {2 * time.Second, time.Second}, {time.Second, time.Second}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%v) did not panic", bad)
				}
			}()
			New(bad...)
		}()
	}
}

func TestConcurrentObserve(t *testing.T) {
	t.Parallel()
	h := New()
	const workers, each = 8, 1000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				h.Observe(time.Duration(w*each+i) * time.Microsecond)
				_ = h.Snapshot() // readers race with writers
			}
		})
	}
	wg.Wait()
	if s := h.Snapshot(); s.Count != workers*each {
		t.Fatalf("Count = %d, want %d", s.Count, workers*each)
	}
}

func BenchmarkObserve(b *testing.B) {
	h := New()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		d := time.Duration(0)
		for pb.Next() {
			h.Observe(d)
			d = (d + 3*time.Millisecond) % (40 * time.Second)
		}
	})
}

func TestObserveDoesNotAllocate(t *testing.T) {
	h := New()
	if n := testing.AllocsPerRun(100, func() { h.Observe(7 * time.Millisecond) }); n != 0 {
		t.Fatalf("Observe allocates %v times", n)
	}
}
