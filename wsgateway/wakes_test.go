package wsgateway

import (
	"testing"

	"github.com/notifyd/notifyd/message"
)

// TestDeliverDeferredWakesOnEndBatch: DeliverDeferred queues the messages
// but leaves the writers asleep; EndBatch wakes each connection once, and
// an empty EndBatch wakes nobody. Deliver still wakes at once.
func TestDeliverDeferredWakesOnEndBatch(t *testing.T) {
	t.Parallel()
	g, err := New(Config{Auth: nopAuth{}, Sites: mustPolicy(t)})
	if err != nil {
		t.Fatal(err)
	}
	a := fakeConn(1, siteA, "users:a", 8, message.Authenticated)
	b := fakeConn(2, siteA, "users:b", 8, message.Authenticated)
	g.hub.add(a)
	g.hub.add(b)
	woken := func(c *conn) bool {
		select {
		case <-c.send.wake:
			return true
		default:
			return false
		}
	}
	for _, title := range []string{"one", "two"} {
		m := newMessage(siteA, "users:z", title, message.Authenticated)
		g.DeliverDeferred(m, m.PushJSON())
	}
	if a.send.len() != 2 || b.send.len() != 2 {
		t.Fatalf("queued %d and %d, want 2 each", a.send.len(), b.send.len())
	}
	if woken(a) || woken(b) {
		t.Fatal("a writer was woken before EndBatch")
	}
	g.EndBatch()
	if !woken(a) || !woken(b) {
		t.Fatal("EndBatch did not wake every writer")
	}
	g.EndBatch()
	if woken(a) || woken(b) {
		t.Fatal("an empty batch woke a writer")
	}
	m := newMessage(siteA, "users:z", "three", "users:a")
	g.Deliver(m, m.PushJSON())
	if !woken(a) || woken(b) {
		t.Fatal("Deliver did not wake its recipient alone")
	}
}
