package pubsub

import (
	"fmt"
	"strconv"
	"testing"
)

// The queue grows up to its bounds (payloads and bytes), always takes a
// gap-fill marker, and hands items over in order, a marker ending a take.
func TestItemQueue(t *testing.T) {
	t.Parallel()
	q := newItemQueue(5, 10)
	for _, tt := range []struct {
		payload string
		want    bool
	}{{"aaaa", true}, {"bbbb", true}, {"cccc", false}, {"dd", true}, {"e", false}} {
		if got := q.push(item{payload: tt.payload}); got != tt.want {
			t.Fatalf("push %q = %v, want %v (10 bytes at most)", tt.payload, got, tt.want)
		}
	}
	q = newItemQueue(3, 100)
	for i := range 3 {
		if !q.push(item{payload: strconv.Itoa(i)}) {
			t.Fatalf("push %d refused", i)
		}
	}
	if q.push(item{payload: "3"}) {
		t.Fatal("a fourth payload was queued with QueueSize 3")
	}
	if !q.push(item{fill: true}) {
		t.Fatal("the marker was refused")
	}
	got, done := q.take(nil, 2)
	if fmt.Sprint(got) != "[{0 false false} {1 false false}]" || done {
		t.Fatalf("take(2) = %v, %v", got, done)
	}
	q.push(item{payload: "4"}) // room again; after the marker
	got, _ = q.take(nil, 10)
	if fmt.Sprint(got) != "[{2 false false} { true false}]" {
		t.Fatalf("take up to the marker = %v", got)
	}
	q.close()
	if got, done = q.take(nil, 10); fmt.Sprint(got) != "[{4 false false}]" || !done {
		t.Fatalf("last take = %v, %v; want 4 and done", got, done)
	}
	if q.bytes != 0 {
		t.Errorf("bytes = %d after everything was taken", q.bytes)
	}
}
