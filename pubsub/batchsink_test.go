package pubsub_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/pubsub"
)

// batchSink is an inboxSink that is also a BatchSink: it logs, in order,
// "D <title>" for DeliverDeferred, "E" for EndBatch, "U <title>" for an
// update and "R <id>" for a retract; plain Deliver calls are recorded by
// the embedded sink.
type batchSink struct {
	inboxSink
	lmu sync.Mutex
	log []string
}

func (s *batchSink) add(e string) {
	s.lmu.Lock()
	defer s.lmu.Unlock()
	s.log = append(s.log, e)
}

func (s *batchSink) DeliverDeferred(m *message.Message, _ []byte) { s.add("D " + m.Title) }
func (s *batchSink) EndBatch()                                    { s.add("E") }
func (s *batchSink) DeliverUpdate(m *message.Message, push []byte) {
	s.add("U " + m.Title)
	s.inboxSink.DeliverUpdate(m, push)
}
func (s *batchSink) DeliverRetract(m *message.Message) {
	s.add("R " + m.ID)
	s.inboxSink.DeliverRetract(m)
}

func (s *batchSink) events() []string {
	s.lmu.Lock()
	defer s.lmu.Unlock()
	return slices.Clone(s.log)
}

var _ pubsub.BatchSink = (*batchSink)(nil)

// TestBatchSinkEndsBatches: a BatchSink gets every message through
// DeliverDeferred, never Deliver, and an EndBatch after the last message
// of each batch and before each update or retract.
func TestBatchSinkEndsBatches(t *testing.T) {
	t.Parallel()
	rdb, _ := realRedis(t)
	n := newInboxNames(t)
	sink := &batchSink{}
	s := n.gateway(t, rdb, sink)
	h := n.history(t, rdb)
	pub := n.publisher(t, rdb, h)
	ctx := context.Background()
	var first *message.Message
	for i := range 20 {
		m := newMessage(fmt.Sprintf("m%d", i))
		m.Channel = ""
		if err := pub.Publish(ctx, m); err != nil {
			t.Fatalf("Publish: %v", err)
		}
		if i == 0 {
			first = m
		}
	}
	if _, err := h.Update(ctx, testHost, first.ID, func(m *message.Message) error { m.Title = "changed"; return nil }); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if _, err := h.Retract(ctx, testHost, first.ID); err != nil {
		t.Fatalf("Retract: %v", err)
	}
	poll.Until(t, "the retract", func() bool { return s.Stats().Retracted == 1 })

	if d := sink.deliveries(); len(d) != 0 {
		t.Fatalf("%d messages went through Deliver, want DeliverDeferred only", len(d))
	}
	ev := sink.events()
	var titles []string
	open := false // a DeliverDeferred since the last EndBatch
	for i, e := range ev {
		switch {
		case strings.HasPrefix(e, "D "):
			titles = append(titles, strings.TrimPrefix(e, "D "))
			open = true
		case e == "E":
			open = false
		case open:
			t.Fatalf("event %d %q while a batch is open: %q", i, e, ev)
		}
	}
	if open {
		t.Fatalf("the last batch was never ended: %q", ev)
	}
	want := make([]string, 20)
	for i := range want {
		want[i] = fmt.Sprintf("m%d", i)
	}
	if !slices.Equal(titles, want) {
		t.Fatalf("deferred deliveries %q, want %q in order", titles, want)
	}
	if !slices.Contains(ev, "U changed") || !slices.Contains(ev, "R "+first.ID) {
		t.Fatalf("update or retract missing: %q", ev)
	}
}
