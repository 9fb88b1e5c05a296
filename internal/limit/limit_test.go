package limit

import (
	"strconv"
	"sync"
	"testing"
	"time"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestBurstThenRate(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Unix(1000, 0)}
	k := New(Config{Rate: 2, Burst: 3, Now: c.now})
	for i := range 3 {
		if !k.Allow("a") {
			t.Fatalf("burst event %d refused", i)
		}
	}
	if k.Allow("a") {
		t.Fatal("4th event within burst allowed")
	}
	if !k.Allow("b") {
		t.Fatal("keys are not independent")
	}
	c.add(500 * time.Millisecond) // one token at 2/s
	if !k.Allow("a") || k.Allow("a") {
		t.Fatal("refill after 500ms at 2/s must allow exactly one")
	}
	c.add(time.Hour)
	for range 3 {
		if !k.Allow("a") {
			t.Fatal("bucket did not refill to burst")
		}
	}
	if k.Allow("a") {
		t.Fatal("refill exceeded burst")
	}
}

func TestDisabled(t *testing.T) {
	t.Parallel()
	k := New(Config{})
	for range 1000 {
		if !k.Allow("x") {
			t.Fatal("disabled limiter refused")
		}
	}
	var nilK *Keyed
	if !nilK.Allow("x") {
		t.Fatal("nil limiter refused")
	}
}

func TestMaxKeysSweepsIdleAndFailsClosed(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Unix(1000, 0)}
	k := New(Config{Rate: 1, Burst: 1, MaxKeys: 2, Now: c.now})
	k.Allow("a")
	k.Allow("b")
	if k.Allow("c") {
		t.Fatal("third key admitted while both buckets are busy")
	}
	c.add(2 * time.Second)
	if !k.Allow("c") {
		t.Fatal("idle buckets were not swept")
	}
	if k.Len() != 1 {
		t.Fatalf("Len = %d after sweep, want 1", k.Len())
	}
}

func TestConcurrent(t *testing.T) {
	t.Parallel()
	k := New(Config{Rate: 1, Burst: 100, Now: func() time.Time { return time.Unix(0, 0) }})
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if k.Allow("shared") {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if allowed != 100 {
		t.Fatalf("allowed %d of 400 with a frozen clock and burst 100", allowed)
	}
}

func TestTakeTellsTheWait(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Unix(1000, 0)}
	k := New(Config{Rate: 0.25, Burst: 2, MaxKeys: 2, Now: c.now})
	for range 2 {
		if ok, wait := k.Take("a"); !ok || wait != 0 {
			t.Fatalf("burst: Take = %v, %v", ok, wait)
		}
	}
	if ok, wait := k.Take("a"); ok || wait != 4*time.Second {
		t.Fatalf("empty bucket at 0.25/s: Take = %v, %v; want false, 4s", ok, wait)
	}
	c.add(3 * time.Second)
	if ok, wait := k.Take("a"); ok || wait != time.Second {
		t.Fatalf("after 3s: Take = %v, %v; want false, 1s", ok, wait)
	}
	// Full of busy keys: a new key waits until the first bucket is full
	// again and can be swept ("b", one token short at 0.25/s: 4s; "a" is
	// 1.25 tokens short).
	k.Take("b")
	if ok, wait := k.Take("c"); ok || wait != 4*time.Second {
		t.Fatalf("new key while full: Take = %v, %v; want false, 4s", ok, wait)
	}
	c.add(4 * time.Second)
	if ok, _ := k.Take("c"); !ok {
		t.Fatal("new key refused once a bucket is full again")
	}
	if ok, wait := New(Config{}).Take("x"); !ok || wait != 0 {
		t.Fatalf("disabled: Take = %v, %v", ok, wait)
	}
}

// At MaxKeys, a new key is refused until the first bucket is full again,
// with the wait until then, and admitted from that instant.
func TestFullOfBusyKeys(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Unix(1000, 0)}
	k := New(Config{Rate: 1, Burst: 2, MaxKeys: 2, Now: c.now})
	k.Allow("a")
	c.add(500 * time.Millisecond)
	k.Allow("b")
	for _, step := range []struct {
		advance time.Duration
		ok      bool
		wait    time.Duration
	}{
		{0, false, 500 * time.Millisecond}, // a lacks half a token
		{0, false, 500 * time.Millisecond}, // answered without a sweep, same wait
		{400 * time.Millisecond, false, 100 * time.Millisecond},
		{100 * time.Millisecond, true, 0}, // a is full: forgotten, c admitted
	} {
		c.add(step.advance)
		ok, wait := k.Take("c")
		if ok != step.ok || wait != step.wait {
			t.Fatalf("after %v: Take = %v, %v; want %v, %v", step.advance, ok, wait, step.ok, step.wait)
		}
	}
	if k.Len() != 2 {
		t.Fatalf("Len = %d, want 2", k.Len())
	}
}

// BenchmarkNewKeysWhenFull is a flood of new keys (client addresses) at
// MaxKeys while every tracked key is busy.
func BenchmarkNewKeysWhenFull(b *testing.B) {
	b.ReportAllocs()
	k := New(Config{Rate: 5, Burst: 20, MaxKeys: 100000})
	for i := range 100000 {
		k.Allow(strconv.Itoa(i))
	}
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = "new-" + strconv.Itoa(i)
	}
	for i := 0; b.Loop(); i++ {
		k.Allow(keys[i&1023])
	}
}

// BenchmarkTake is one client address taking tokens from a limiter that
// tracks many.
func BenchmarkTake(b *testing.B) {
	b.ReportAllocs()
	k := New(Config{Rate: 1e9, Burst: 1e9})
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = "10.0." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256)
	}
	for i := 0; b.Loop(); i++ {
		k.Allow(keys[i&1023])
	}
}

// TestBucket: a zero Bucket is full at its first use, refills at rate up
// to burst, and tells how long until the next token.
func TestBucket(t *testing.T) {
	var b Bucket
	t0 := time.Unix(100, 0)
	for i := range 3 {
		if ok, _ := b.Take(t0, 2, 3); !ok {
			t.Fatalf("take %d of a full bucket of 3 refused", i+1)
		}
	}
	ok, wait := b.Take(t0, 2, 3)
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("empty bucket: ok %v wait %v, want refused for 500ms", ok, wait)
	}
	if ok, _ := b.Take(t0.Add(500*time.Millisecond), 2, 3); !ok {
		t.Fatal("refused after refilling one token")
	}
	// A long rest refills up to burst, not beyond.
	later := t0.Add(time.Hour)
	for i := range 3 {
		if ok, _ := b.Take(later, 2, 3); !ok {
			t.Fatalf("take %d after a rest refused", i+1)
		}
	}
	if ok, _ := b.Take(later, 2, 3); ok {
		t.Fatal("a rest filled the bucket beyond its burst")
	}
}
