package pubsub_test

import (
	"testing"
	"time"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/pubsub"
)

// Each live delivery records its message's age, now minus its timestamp:
// a producer's clock ahead of the gateway's counts as zero, an hour-old
// timestamp lands above the last bound. Thresholds are bucket bounds, never
// the test's own timing.
func TestPublishToDeliveryLatency(t *testing.T) {
	t.Parallel()
	rdb, _ := backends[0].New(t)
	sink := &recordingSink{}
	s := newSubscriber(t, rdb, newHistory(t, rdb, history.Config{}), sink, pubsub.SubscriberConfig{})
	channel := keyPrefix(t) + ":chan"
	run(t, s)
	poll.Until(t, "subscription", s.Ready)

	for _, ts := range []time.Time{time.Now().Add(time.Hour), time.Now().Add(-time.Hour)} {
		m := newMessage("at " + ts.String())
		m.Channel, m.Timestamp = channel, message.FormatTimestamp(ts)
		publish(t, rdb, channel, string(m.AppendJSON(nil, true)))
	}
	poll.Until(t, "deliveries", func() bool { return len(sink.deliveries()) == 2 })
	h := s.Stats().PublishToDelivery
	if h.Count != 2 {
		t.Fatalf("Count = %d, want 2", h.Count)
	}
	if first, last := h.Counts[0], h.Counts[len(h.Counts)-1]; first != 1 || last != 1 {
		t.Errorf("Counts = %v: want the future timestamp in the first bucket, the hour-old one in +Inf", h.Counts)
	}
	if h.Sum < time.Hour {
		t.Errorf("Sum = %v, want at least the hour-old message's age", h.Sum)
	}
}
