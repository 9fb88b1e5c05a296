package wsgateway

import (
	"slices"
	"testing"
)

func setConns(s connSet) []*conn {
	out := slices.Collect(s.all())
	slices.SortFunc(out, func(a, b *conn) int { return int(a.id) - int(b.id) })
	return out
}

func TestConnSet(t *testing.T) {
	a, b, c := &conn{id: 1}, &conn{id: 2}, &conn{id: 3}
	var s connSet
	if !s.empty() || len(setConns(s)) != 0 {
		t.Fatal("zero set not empty")
	}
	s.add(a)
	s.add(a)
	if got := setConns(s); !slices.Equal(got, []*conn{a}) || s.many != nil {
		t.Fatalf("one conn added twice: %v, map %v", got, s.many)
	}
	s.add(b)
	s.add(c)
	if got := setConns(s); !slices.Equal(got, []*conn{a, b, c}) {
		t.Fatalf("three conns: %v", got)
	}
	s.remove(a)
	s.remove(a) // twice is harmless
	if got := setConns(s); !slices.Equal(got, []*conn{b, c}) {
		t.Fatalf("after removing a: %v", got)
	}
	s.remove(c)
	if got := setConns(s); !slices.Equal(got, []*conn{b}) || s.many != nil || s.one != b {
		t.Fatalf("one left: %v, one %v, map %v", got, s.one, s.many)
	}
	s.remove(b)
	if !s.empty() {
		t.Fatal("set not empty after removing everything")
	}
	// Early exit from the iteration stops it.
	s.add(a)
	s.add(b)
	n := 0
	for range s.all() {
		n++
		break
	}
	if n != 1 {
		t.Fatalf("iteration went on after break: %d", n)
	}
}
