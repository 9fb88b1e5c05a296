// Package hist is a latency histogram for the packages that keep plain
// Stats: fixed bucket bounds, atomic counters, no allocation per
// observation, and a Snapshot that internal/metrics exposes as a Prometheus
// histogram. The packages that record know nothing of Prometheus.
//
// A Histogram is safe for concurrent use. A Snapshot taken while
// observations go on is consistent in its buckets and Count (Count is their
// sum); Sum may include an observation whose bucket it does not.
package hist

import (
	"fmt"
	"sync/atomic"
	"time"
)

// LatencyBounds are the default upper bounds of the buckets, from half a
// millisecond to half a minute: Prometheus's default buckets with two finer
// ones below and one coarser above.
var LatencyBounds = []time.Duration{
	500 * time.Microsecond, time.Millisecond, 2500 * time.Microsecond,
	5 * time.Millisecond, 10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second, 30 * time.Second,
}

// Histogram counts durations in buckets of fixed upper bounds (inclusive,
// as Prometheus's "le") plus one above the last bound.
type Histogram struct {
	// immutable after New
	bounds []time.Duration

	counts []atomic.Uint64 // counts[i]: observations in bucket i (not cumulative); the last is +Inf
	sum    atomic.Int64    // nanoseconds
}

// New returns a histogram with the given upper bounds, which must be
// positive and strictly increasing (it panics otherwise: a programming
// error). No bounds: LatencyBounds.
func New(bounds ...time.Duration) *Histogram {
	if len(bounds) == 0 {
		bounds = LatencyBounds
	}
	for i, b := range bounds {
		if b <= 0 || (i > 0 && b <= bounds[i-1]) {
			panic(fmt.Sprintf("hist: bounds must be positive and increasing: %v", bounds))
		}
	}
	return &Histogram{bounds: append([]time.Duration(nil), bounds...), counts: make([]atomic.Uint64, len(bounds)+1)}
}

// Observe records one duration. A negative duration (a clock that went back,
// or another host's clock ahead of this one) is recorded as zero.
func (h *Histogram) Observe(d time.Duration) {
	d = max(d, 0)
	i := 0
	for i < len(h.bounds) && d > h.bounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Add(int64(d))
}

// Since records the time elapsed since start.
func (h *Histogram) Since(start time.Time) { h.Observe(time.Since(start)) }

// Snapshot is a histogram's state at one moment.
type Snapshot struct {
	// Bounds are the buckets' upper bounds (shared: do not modify).
	Bounds []time.Duration
	// Counts has one count per bound plus the +Inf bucket, not cumulative:
	// Counts[i] counts the observations d with Bounds[i-1] < d <= Bounds[i].
	Counts []uint64
	// Count is the number of observations, the sum of Counts.
	Count uint64
	// Sum is the sum of the observations.
	Sum time.Duration
}

// Snapshot returns the histogram's current state.
func (h *Histogram) Snapshot() Snapshot {
	s := Snapshot{Bounds: h.bounds, Counts: make([]uint64, len(h.counts))}
	for i := range h.counts {
		s.Counts[i] = h.counts[i].Load()
		s.Count += s.Counts[i]
	}
	s.Sum = time.Duration(h.sum.Load())
	return s
}

// Cumulative returns the counts of observations at or below each bound, as
// Prometheus's "le" buckets (the +Inf bucket is Count).
func (s Snapshot) Cumulative() []uint64 {
	out := make([]uint64, len(s.Bounds))
	var n uint64
	for i := range s.Bounds {
		n += s.Counts[i]
		out[i] = n
	}
	return out
}
