package wsgateway

import "testing"

// TestQueueBoundAndOrder: push refuses beyond the limit, take returns
// everything in order and wakes once per burst.
func TestQueueBoundAndOrder(t *testing.T) {
	q := newQueue(3)
	for i := range 3 {
		if !q.push(item{id: string(rune('a' + i))}) {
			t.Fatalf("push %d refused under the limit", i)
		}
	}
	if q.push(item{id: "d"}) {
		t.Fatal("push beyond the limit accepted")
	}
	select {
	case <-q.wake:
	default:
		t.Fatal("no wake after a push")
	}
	got := q.take(nil)
	if len(got) != 3 || got[0].id != "a" || got[2].id != "c" || q.len() != 0 {
		t.Fatalf("took %v, left %d", got, q.len())
	}
	if !q.push(item{id: "e"}) {
		t.Fatal("push after a take refused")
	}
	if again := q.take(got); len(again) != 1 || again[0].id != "e" {
		t.Fatalf("second take %v", again)
	}
}

// TestQueueBuffers: a queue holds no buffer until something is pushed,
// the writer's two buffers alternate while bursts are small, and a drained
// queue drops a buffer that grew large.
func TestQueueBuffers(t *testing.T) {
	q := newQueue(1000)
	if q.items != nil {
		t.Fatal("a new queue holds a buffer")
	}
	q.push(item{})
	a := q.take(nil)
	q.push(item{})
	b := q.take(a)
	if &a[:1][0] == &b[:1][0] {
		t.Fatal("take returned the buffer it was given back")
	}
	q.push(item{})
	if c := q.take(b); &c[:1][0] != &a[:1][0] {
		t.Fatal("the two buffers do not alternate")
	}
	for range 500 {
		q.push(item{})
	}
	big := q.take(nil)
	if q.take(big); q.items != nil {
		t.Fatalf("a drained queue kept a buffer of %d", cap(q.items))
	}
}

// TestQueueKeepsLargeBufferWhileBehind: a large buffer is kept while the
// queue keeps filling half of it (the writer is behind), and dropped by
// shrink once the writer caught up.
func TestQueueKeepsLargeBufferWhileBehind(t *testing.T) {
	q := newQueue(1000)
	fill := func(n int) {
		for range n {
			q.push(item{})
		}
	}
	fill(500)
	a := q.take(nil)
	fill(400)
	b := q.take(a) // 400 of a's 500-odd: behind, a is kept
	if cap(q.items) != cap(a) {
		t.Fatalf("the queue's buffer has cap %d, want a's %d", cap(q.items), cap(a))
	}
	fill(10)
	q.take(b) // 10: caught up, b is dropped
	if q.items != nil {
		t.Fatalf("kept a buffer of %d for a queue of 10", cap(q.items))
	}
	fill(300)
	if q.shrink(); cap(q.items) < 300 {
		t.Fatal("shrink dropped a buffer holding items")
	}
	q.take(nil)
	q.items = make([]item, 0, 4*keepCap)
	if q.shrink(); q.items != nil {
		t.Fatalf("shrink kept an empty buffer of %d", cap(q.items))
	}
}

// TestEnqueueSlowMeansNotReading: past QueueSize, a connection whose socket
// takes what is written (the writer is not blocked) keeps queueing, up to
// slackFactor times QueueSize; one whose writer is blocked on the socket
// is stopped as a slow consumer at QueueSize.
func TestEnqueueSlowMeansNotReading(t *testing.T) {
	behind := newConn(nil, 1, nil, siteA, 4)
	behind.raw = &wireConn{}
	for i := range 4 * slackFactor {
		if !behind.enqueue(item{}) {
			t.Fatalf("item %d refused: the socket was not blocked", i)
		}
	}
	if behind.enqueue(item{}) || behind.req != stopSlow {
		t.Fatalf("past %d items: queued, or stopped for %v", 4*slackFactor, behind.req)
	}

	stuck := newConn(nil, 2, nil, siteA, 4)
	stuck.raw = &wireConn{}
	for range 4 {
		stuck.enqueue(item{})
	}
	stuck.raw.writing.Store(true) // a write is blocked: the client does not read
	if stuck.enqueue(item{}) || stuck.req != stopSlow {
		t.Fatalf("a full queue behind a blocked write: queued, or stopped for %v", stuck.req)
	}
}
