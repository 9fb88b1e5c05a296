package pubsub_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/pubsub"
)

// countingSink counts deliveries; only the dispatcher calls it, and the
// benchmark reads Stats instead.
type countingSink struct{}

func (countingSink) Deliver(*message.Message, []byte) {}

// BenchmarkSubscriberThroughput measures the whole subscriber on a real
// redis-server: bare PUBLISHes (pipelined by the producer) read, decoded,
// delivered and stored in the history. One op is one message, from its
// PUBLISH until it is both delivered and stored. "inbox" runs the inbox
// pipeline (a DeliveryChannel): the intake is stored, then delivered from
// the delivery channel.
func BenchmarkSubscriberThroughput(b *testing.B) {
	b.Run("direct", func(b *testing.B) { benchmarkThroughput(b, "") })
	b.Run("inbox", func(b *testing.B) { benchmarkThroughput(b, "delivery") })
}

func benchmarkThroughput(b *testing.B, delivery string) {
	rdb, _ := realRedis(b)
	ctx := context.Background()
	channel := keyPrefix(b) + ":chan"
	if delivery != "" {
		delivery = keyPrefix(b) + ":" + delivery
	}
	h := newHistory(b, rdb, history.Config{Length: 1000, DeliveryChannel: delivery})
	payloads := make([]string, b.N)
	ts := message.FormatTimestamp(time.Now())
	for i := range payloads {
		m := newMessage(fmt.Sprintf("bench %d", i))
		m.Channel, m.Timestamp = channel, ts
		payloads[i] = string(m.AppendJSON(nil, true))
	}
	s := newSubscriber(b, rdb, h, countingSink{}, pubsub.SubscriberConfig{
		Channel: channel, DeliveryChannel: delivery, QueueSize: 2*b.N + 1, HistoryQueueSize: b.N + 1, RecentIDs: b.N + 1,
	})
	run(b, s)
	poll.Until(b, "subscription", s.Ready)
	b.ReportAllocs()
	b.ResetTimer()
	const chunk = 256
	for start := 0; start < len(payloads); start += chunk {
		_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, pl := range payloads[start:min(start+chunk, len(payloads))] {
				p.Publish(ctx, channel, pl)
			}
			return nil
		})
		if err != nil {
			b.Fatalf("PUBLISH: %v", err)
		}
	}
	n := uint64(b.N)
	deadline := time.NewTimer(time.Minute)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Microsecond)
	defer tick.Stop()
	for st := s.Stats(); st.Delivered != n || st.HistoryWritten != n; st = s.Stats() {
		select {
		case <-deadline.C:
			b.Fatalf("stats %+v, want %d delivered and stored", st, n)
		case <-tick.C:
		}
	}
	b.StopTimer()
	if delivery != "" {
		b.ReportMetric(float64(s.Stats().DeliveriesReused)/float64(n), "reused/op")
	}
}
