package message

import (
	"slices"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2025, 1, 18, 17, 20, 54, 123456789, time.UTC)

func TestIDGenMonotonic(t *testing.T) {
	t.Parallel()
	var g IDGen
	times := []time.Time{
		t0, t0, t0, // same millisecond
		t0.Add(time.Microsecond),     // still the same millisecond
		t0.Add(-time.Hour),           // clock stepped back
		t0.Add(2 * time.Millisecond), // forward again
		t0.Add(time.Millisecond),     // back by one millisecond
	}
	prev := ""
	for i, now := range times {
		id := g.New(now)
		if len(id) != IDLength || !ValidID(id) {
			t.Fatalf("id %q: bad length or characters", id)
		}
		if id <= prev {
			t.Fatalf("id %d %q is not after %q", i, id, prev)
		}
		prev = id
	}
}

func TestIDGenSortableByTime(t *testing.T) {
	t.Parallel()
	var a, b IDGen // separate generators: order comes from the time alone
	for i := 0; i < 100; i++ {
		now := t0.Add(time.Duration(i) * time.Hour)
		early, late := a.New(now), b.New(now.Add(time.Millisecond))
		if early >= late {
			t.Fatalf("%q (at %v) sorts after %q (1ms later)", early, now, late)
		}
	}
}

func TestIDGenConcurrent(t *testing.T) {
	t.Parallel()
	const goroutines, perG = 32, 500
	var g IDGen
	results := make([][]string, goroutines)
	var wg sync.WaitGroup
	for i := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids := make([]string, perG)
			for j := range ids {
				ids[j] = g.New(t0) // all in one millisecond: the hardest case
			}
			results[i] = ids
		}()
	}
	wg.Wait()
	seen := make(map[string]bool, goroutines*perG)
	for _, ids := range results {
		if !slices.IsSorted(ids) {
			t.Fatal("ids of one goroutine are not increasing")
		}
		for _, id := range ids {
			if seen[id] {
				t.Fatalf("duplicate id %q", id)
			}
			seen[id] = true
		}
	}
	if len(seen) != goroutines*perG {
		t.Fatalf("got %d ids, want %d", len(seen), goroutines*perG)
	}
}

func TestIDTime(t *testing.T) {
	t.Parallel()
	var g IDGen
	got, ok := IDTime(g.New(t0))
	if !ok || !got.Equal(t0.Truncate(time.Millisecond)) {
		t.Fatalf("IDTime = %v, %v; want %v", got, ok, t0.Truncate(time.Millisecond))
	}
	if got.Location() != time.UTC {
		t.Errorf("IDTime location = %v, want UTC", got.Location())
	}
	for _, bad := range []string{"", "short", "01JHWX2X3B000000000000000", "01JHWX2X3B00000000000000000",
		"01JHWX2XIB0000000000000000", "01jhwx2x3b0000000000000000", "01JHWX2X-B0000000000000000"} {
		if _, ok := IDTime(bad); ok {
			t.Errorf("IDTime(%q) ok, want false", bad)
		}
	}
}

func TestDeriveID(t *testing.T) {
	t.Parallel()
	ts := "2025-01-18T17:20:54.123456+00:00"
	payload := []byte(pyamsLogin)
	a, b := DeriveID(ts, payload), DeriveID(ts, append([]byte(nil), payload...))
	if a != b {
		t.Fatalf("DeriveID not deterministic: %q != %q", a, b)
	}
	if len(a) != IDLength || !ValidID(a) {
		t.Fatalf("DeriveID = %q: bad length or characters", a)
	}
	if c := DeriveID(ts, append(payload, ' ')); c == a {
		t.Errorf("different payloads give the same id %q", a)
	}
	if c := DeriveID(ts, payload); c[:10] != a[:10] {
		t.Errorf("time prefix differs")
	}
	got, ok := IDTime(a)
	want := time.Date(2025, 1, 18, 17, 20, 54, 123000000, time.UTC)
	if !ok || !got.Equal(want) {
		t.Errorf("IDTime(DeriveID) = %v, %v; want %v", got, ok, want)
	}
	later := DeriveID("2025-01-18T17:20:55+00:00", payload)
	if later <= a {
		t.Errorf("a later timestamp does not sort later: %q <= %q", later, a)
	}
	for _, ts := range []string{"", "garbage", "1960-01-01T00:00:00+00:00"} {
		id := DeriveID(ts, payload)
		if got, ok := IDTime(id); !ok || got.UnixMilli() != 0 {
			t.Errorf("DeriveID(%q) time = %v, want the epoch", ts, got)
		}
	}
}
