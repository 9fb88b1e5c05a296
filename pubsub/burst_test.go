package pubsub_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/pubsub"
)

// The burst: 20 000 PyAMS messages of about 1.5 KB, for 100 users,
// PUBLISHed at once in one pipeline, reach an inbox gateway with the
// default queue bounds: every one is stored and delivered, none dropped in
// front of the dispatcher.
func TestInboxBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("20 000 messages")
	}
	// Not parallel: it loads the machine, and the other tests of the
	// package wait on health checks and reconnections.
	rdb, _ := realRedis(t)
	n := newInboxNames(t)
	s := n.gateway(t, rdb, countingSink{})
	const burst = 20000
	ts := message.FormatTimestamp(time.Now())
	body := strings.Repeat("Please review the document. ", 50)
	_, err := rdb.Pipelined(context.Background(), func(p redis.Pipeliner) error {
		for i := range burst {
			m := newMessage(fmt.Sprintf("burst %d", i))
			m.Channel, m.Timestamp, m.Body = n.channel, ts, body
			m.Target = &message.Target{Principals: []string{fmt.Sprintf("users:u%d", i%100)}}
			p.Publish(context.Background(), n.channel, m.AppendJSON(nil, true))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("PUBLISH: %v", err)
	}
	// Wait on progress, a quarter at a time, rather than on the whole burst.
	poll.Until(t, "every message read", func() bool { return s.Stats().Received == burst })
	for part := burst / 4; part <= burst; part += burst / 4 {
		poll.Until(t, fmt.Sprintf("%d messages delivered or dropped", part), func() bool {
			st := s.Stats()
			return st.Delivered+st.Dropped[pubsub.DropQueueFull] >= uint64(part)
		})
	}
	if st := s.Stats(); st.Delivered != burst || st.HistoryWritten != burst || st.Dropped[pubsub.DropQueueFull] > 0 {
		t.Errorf("delivered %d, stored %d, dropped %v; want all %d", st.Delivered, st.HistoryWritten, st.Dropped, burst)
	}
}
