package wsgateway

import (
	"fmt"
	"testing"

	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/protocol"
)

// fakeConn is a hub entry without a socket.
func fakeConn(id uint64, site, principal string, queue int, extra ...string) *conn {
	c := newConn(nil, id, nil, site, queue)
	c.principal = principal
	c.principals = append([]string{principal}, extra...)
	return c
}

// add indexes c without an admission.
func (h *hub) add(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.addLocked(c)
}

// remove takes c out of the index.
func (h *hub) remove(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeLocked(c)
}

func TestHubIndex(t *testing.T) {
	t.Parallel()
	h := newHub()
	a := fakeConn(1, siteA, "users:a", 1, "group:x")
	b := fakeConn(2, siteA, "users:b", 1, "group:x")
	c := fakeConn(3, siteB, "users:c", 1, "group:x")
	for _, x := range []*conn{a, b, c, a} { // adding twice is harmless
		h.add(x)
	}
	if h.len() != 3 {
		t.Fatalf("len = %d, want 3", h.len())
	}
	if got := len(setConns(h.sites[siteA]["group:x"])); got != 2 {
		t.Errorf("site A group:x has %d conns, want 2", got)
	}
	h.remove(a)
	h.remove(a) // removing twice is harmless
	if h.len() != 2 {
		t.Errorf("len = %d, want 2", h.len())
	}
	if _, ok := h.sites[siteA]["users:a"]; ok {
		t.Error("empty principal set left in the index")
	}
	h.remove(c)
	if _, ok := h.sites[siteB]; ok {
		t.Error("empty site left in the index")
	}
	h.remove(b)
	if len(h.sites) != 0 || h.len() != 0 {
		t.Errorf("index not empty: %v, len %d", h.sites, h.len())
	}
}

func TestHubOverflowStopsConn(t *testing.T) {
	t.Parallel()
	h := newHub()
	slow := fakeConn(1, siteA, "users:slow", 2)
	slow.raw = &wireConn{}
	slow.raw.writing.Store(true) // its writer is blocked: the client does not read
	h.add(slow)
	m := newMessage(siteA, "", "m", "users:slow")
	push := m.PushJSON()
	tests := []struct {
		delivered, dropped uint64
		stopped            bool
	}{
		{1, 0, false},
		{1, 0, false},
		{0, 1, true}, // queue full: dropped, stopped as slow
		{0, 1, true}, // closing: dropped without trying
	}
	for i, tt := range tests {
		d, dr := h.deliver(m, item{id: m.ID, b: push}, nil, nil)
		if d != tt.delivered || dr != tt.dropped || slow.stopping.Load() != tt.stopped {
			t.Fatalf("deliver %d: delivered %d dropped %d stopped %v; want %d %d %v",
				i, d, dr, slow.stopping.Load(), tt.delivered, tt.dropped, tt.stopped)
		}
	}
	select {
	case <-slow.closing:
	default:
		t.Fatal("writer not signalled")
	}
	if slow.req.reason != DisconnectSlow || slow.req.code != protocol.CloseSlowConsumer {
		t.Errorf("close request %+v, want slow consumer", slow.req)
	}
}

func TestStopFirstReasonWins(t *testing.T) {
	t.Parallel()
	c := fakeConn(1, siteA, "users:a", 1)
	c.stop(stopShutdown)
	c.stop(stopSlow)
	c.stop(stopClient)
	if c.req != stopShutdown {
		t.Errorf("req = %+v, want the first (shutdown)", c.req)
	}
}

// BenchmarkDeliver measures Deliver with 10k connections indexed on one
// site: a targeted message (one recipient) and a broadcast to all.
func BenchmarkDeliver(b *testing.B) {
	const conns = 10_000
	// Drained as the writer drains, handing its spare buffer back, often
	// enough that the buffers stay within keepCap (append's growth takes a
	// buffer of 64 items to a capacity of 85, which take drops): in the
	// steady state no queue allocates.
	const drainEvery = keepCap / 2
	policy := mustPolicy(b)
	g, err := New(Config{Auth: nopAuth{}, Sites: policy, QueueSize: 256})
	if err != nil {
		b.Fatal(err)
	}
	all := make([]*conn, conns)
	for i := range all {
		all[i] = fakeConn(uint64(i), siteA, fmt.Sprintf("users:%d", i), g.cfg.QueueSize, message.Everyone, message.Authenticated, "group:staff")
		g.hub.add(all[i])
	}
	spares := make([][]item, conns)
	drain := func(first, n int) { // the queues of all[first:first+n]
		for i := first; i < first+n; i++ {
			spares[i] = all[i].send.take(spares[i])
		}
	}
	for _, bc := range []struct {
		name         string
		msg          *message.Message
		want         uint64
		first, count int // the recipients' conns, drained
		every        int // drained every so many calls
	}{
		{"targeted", newMessage(siteA, "users:0", "one", "users:4242"), 1, 4242, 1, drainEvery},
		{"broadcast", newMessage(siteA, "users:0", "all", message.Authenticated), conns - 1, 0, conns, drainEvery},
		// writers behind by 128 messages: the queues keep their large buffers
		{"broadcast-behind", newMessage(siteA, "users:0", "all", message.Authenticated), conns - 1, 0, conns, 128},
	} {
		b.Run(bc.name, func(b *testing.B) {
			push := bc.msg.PushJSON()
			before := g.Stats().Delivered
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				switch {
				case i%bc.every != 0:
				case bc.count == 1: // one take per drainEvery calls: timed (StopTimer costs more)
					drain(bc.first, bc.count)
				default:
					b.StopTimer()
					drain(bc.first, bc.count)
					b.StartTimer()
				}
				g.Deliver(bc.msg, push)
			}
			b.StopTimer()
			if got := g.Stats().Delivered - before; got != uint64(b.N)*bc.want {
				b.Fatalf("delivered %d, want %d", got, uint64(b.N)*bc.want)
			}
			drain(bc.first, bc.count)
		})
	}
}
