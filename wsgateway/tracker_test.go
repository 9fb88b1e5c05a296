package wsgateway

import (
	"slices"
	"testing"
)

func TestTracker(t *testing.T) {
	t.Parallel()
	tr := newTracker()
	a := fakeConn(1, siteA, "users:a", 1)
	b := fakeConn(2, siteA, "users:b", 1)
	late := fakeConn(3, siteA, "users:a", 1)
	if !tr.enter() || !tr.enter() {
		t.Fatal("enter refused while open")
	}
	if !tr.attach(a) || !tr.attach(b) {
		t.Fatal("attach refused while open")
	}
	if got := tr.of("users:a"); !slices.Equal(got, []*conn{a}) {
		t.Errorf("of(users:a) = %v, want [a]", got)
	}
	if got := tr.close(); len(got) != 2 {
		t.Errorf("close returned %d conns, want 2", len(got))
	}
	if tr.enter() {
		t.Error("enter accepted after close")
	}
	if tr.attach(late) {
		t.Error("attach reported open after close")
	}
	if got := tr.of("users:a"); len(got) != 2 {
		t.Errorf("of(users:a) = %d conns, want 2: a conn attached after close is still reachable", len(got))
	}
	for _, c := range []*conn{a, b, late} {
		tr.detach(c)
	}
	if got := tr.all(); len(got) != 0 {
		t.Errorf("%d conns left after detach", len(got))
	}
	tr.leave()
	tr.leave()
	tr.wait() // returns: every call entered has left
}
