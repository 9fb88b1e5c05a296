package pubsub_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/pubsub"
)

func TestSubscriberSurvivesBadPayloads(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			rdb, _ := b.New(t)
			sink := &recordingSink{}
			s := newSubscriber(t, rdb, newHistory(t, rdb, history.Config{}), sink,
				pubsub.SubscriberConfig{MaxMessageSize: 2048})
			channel := keyPrefix(t) + ":chan"
			run(t, s)
			poll.Until(t, "subscription", s.Ready)

			noHost := newMessage("no host")
			noHost.Host = ""
			bad := []struct {
				payload string
				reason  pubsub.DropReason
			}{
				{"", pubsub.DropMalformed},
				{"not json", pubsub.DropMalformed},
				{`[1, 2, 3]`, pubsub.DropMalformed},
				{`{"title": `, pubsub.DropMalformed},
				{"{\"title\": \"\xff\xfe\"}", pubsub.DropMalformed},
				{`{"title": 5}`, pubsub.DropInvalid},
				{`{"target": {"principals": "everyone"}}`, pubsub.DropInvalid},
				{string(noHost.AppendJSON(nil, true)), pubsub.DropInvalid},
				{`{"title": "` + strings.Repeat("x", 4096) + `"}`, pubsub.DropTooLarge},
				// Deep JSON within the size limit decodes (encoding/json bounds
				// nesting itself) and is refused by validation.
				{`{"deep": ` + strings.Repeat("[", 900) + strings.Repeat("]", 900) + `}`, pubsub.DropInvalid},
				{`{"deep": ` + strings.Repeat("[", 1500) + `}`, pubsub.DropMalformed},
			}
			want := map[pubsub.DropReason]uint64{}
			for _, p := range bad {
				publish(t, rdb, channel, p.payload)
				want[p.reason]++
			}
			publish(t, rdb, channel, bare("valid", channel))
			poll.Until(t, "the valid message", func() bool { return len(sink.deliveries()) == 1 })
			if got := sink.titles(); fmt.Sprint(got) != "[valid]" {
				t.Errorf("delivered %v, want only the valid message", got)
			}
			st := s.Stats()
			for reason, n := range want {
				if st.Dropped[reason] != n {
					t.Errorf("Dropped[%s] = %d, want %d (all: %v)", reason, st.Dropped[reason], n, st.Dropped)
				}
			}
			if st.Received != uint64(len(bad)+1) || st.Delivered != 1 {
				t.Errorf("stats = %+v", st)
			}
			if !s.Ready() {
				t.Error("not ready after bad payloads")
			}
		})
	}
}

func TestSubscriberStoresOnce(t *testing.T) {
	t.Parallel()
	rdb, _ := realRedis(t)
	ctx := context.Background()
	channel := keyPrefix(t) + ":chan"
	key := keyPrefix(t)
	// Two gateways, each with its own History, on one Redis.
	var subs []*pubsub.Subscriber
	var sinks []*recordingSink
	for range 2 {
		sink := &recordingSink{}
		s := newSubscriber(t, rdb, newHistory(t, rdb, history.Config{Key: key}), sink,
			pubsub.SubscriberConfig{Channel: channel})
		run(t, s)
		subs, sinks = append(subs, s), append(sinks, sink)
	}
	poll.Until(t, "both subscriptions", func() bool { return subs[0].Ready() && subs[1].Ready() })

	// A Publisher on a third process stores first; the gateways then find
	// its id already stored.
	h := newHistory(t, rdb, history.Config{Key: key})
	pub, err := pubsub.NewPublisher(rdb, h, pubsub.PublisherConfig{Channel: channel})
	if err != nil {
		t.Fatalf("NewPublisher: %v", err)
	}
	const bareCount = 3
	for i := range bareCount {
		publish(t, rdb, channel, bare(fmt.Sprintf("bare %d", i), channel))
	}
	published := newMessage("published")
	published.Channel = ""
	if err := pub.Publish(ctx, published); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	const total = bareCount + 1
	poll.Until(t, "both gateways to deliver and store", func() bool {
		var written, dup uint64
		for i, s := range subs {
			st := s.Stats()
			written, dup = written+st.HistoryWritten, dup+st.HistoryDuplicates
			if len(sinks[i].deliveries()) != total {
				return false
			}
		}
		return written+dup == 2*total
	})
	var written uint64
	for _, s := range subs {
		written += s.Stats().HistoryWritten
	}
	if written != bareCount {
		t.Errorf("gateways wrote %d entries, want %d (the published one was stored by the publisher)", written, bareCount)
	}
	list, err := h.List(ctx, testHost)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(list) != total {
		t.Fatalf("history has %d entries, want %d: %v", len(list), total, ids(list))
	}
	seen := map[string]bool{}
	for _, m := range list {
		if seen[m.ID] {
			t.Errorf("id %s stored twice", m.ID)
		}
		seen[m.ID] = true
	}
	// Both gateways derived the same ids.
	for i := range total {
		if a, b := sinks[0].deliveries()[i].m.ID, sinks[1].deliveries()[i].m.ID; a != b {
			t.Errorf("delivery %d: gateways derived ids %s and %s", i, a, b)
		}
	}
}

func TestSubscriberRestart(t *testing.T) {
	t.Parallel()
	rdb, srv := realRedis(t)
	sink := &recordingSink{}
	var reconnects atomic.Int32
	s := newSubscriber(t, rdb, newHistory(t, rdb, history.Config{}), sink, pubsub.SubscriberConfig{
		HealthCheckInterval: 100 * time.Millisecond,
		OnSubscribed: func(_ context.Context, reconnect bool) {
			if reconnect {
				reconnects.Add(1)
			}
		},
	})
	channel := keyPrefix(t) + ":chan"
	run(t, s)
	poll.Until(t, "subscription", s.Ready)
	publish(t, rdb, channel, bare("before", channel))
	poll.Until(t, "first delivery", func() bool { return len(sink.deliveries()) == 1 })

	srv.Stop()
	poll.Until(t, "not ready while Redis is stopped", func() bool { return !s.Ready() })
	srv.Restart()
	poll.Until(t, "ready after restart", s.Ready)
	publish(t, rdb, channel, bare("after", channel))
	poll.Until(t, "delivery after restart", func() bool { return len(sink.deliveries()) == 2 })
	if got := sink.titles(); fmt.Sprint(got) != "[before after]" {
		t.Errorf("delivered %v", got)
	}
	if st := s.Stats(); st.Reconnects != 1 || reconnects.Load() != 1 {
		t.Errorf("Reconnects = %d, OnSubscribed(reconnect) calls = %d; want 1 and 1", st.Reconnects, reconnects.Load())
	}
	// The restarted server is empty: the second message was stored afresh.
	poll.Until(t, "history write after restart", func() bool { return s.Stats().HistoryWritten == 2 })
}

func TestSubscriberDetectsDeadConnection(t *testing.T) {
	t.Parallel()
	_, srv := realRedis(t)
	proxy := newStallProxy(t, srv.Addr())
	viaProxy := newClient(t, proxy.Addr())
	direct := newClient(t, srv.Addr())
	sink := &recordingSink{}
	s := newSubscriber(t, viaProxy, nil, sink, pubsub.SubscriberConfig{HealthCheckInterval: 50 * time.Millisecond})
	channel := keyPrefix(t) + ":chan"
	run(t, s)
	poll.Until(t, "subscription", s.Ready)

	// The connection stays open but nothing comes back: only the PING
	// health check can tell.
	proxy.Stall()
	poll.Until(t, "not ready while the connection is stalled", func() bool { return !s.Ready() })
	proxy.Unstall()
	poll.Until(t, "ready again", s.Ready)
	publish(t, direct, channel, bare("after stall", channel))
	poll.Until(t, "delivery after the stall", func() bool { return len(sink.deliveries()) == 1 })
	if st := s.Stats(); st.Reconnects == 0 {
		t.Errorf("Reconnects = 0 after a replaced connection")
	}
}

func TestSubscriberQueueOverflow(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			rdb, _ := b.New(t)
			sink := newBlockingSink()
			const queue = 4
			s := newSubscriber(t, rdb, nil, sink, pubsub.SubscriberConfig{QueueSize: queue})
			channel := keyPrefix(t) + ":chan"
			run(t, s)
			poll.Until(t, "subscription", s.Ready)

			publish(t, rdb, channel, bare("first", channel))
			<-sink.entered // the dispatcher is now stuck in Deliver
			const more = 20
			for i := range more {
				publish(t, rdb, channel, bare(fmt.Sprintf("m%d", i), channel))
			}
			poll.Until(t, "every payload read", func() bool { return s.Stats().Received == 1+more })
			if got := s.Stats().Dropped[pubsub.DropQueueFull]; got != more-queue {
				t.Errorf("Dropped[queue_full] = %d, want %d", got, more-queue)
			}
			close(sink.release)
			poll.Until(t, "queued messages delivered", func() bool { return s.Stats().Delivered == 1+queue })
			want := "[first m0 m1 m2 m3]"
			if got := fmt.Sprint(sink.titles()); got != want {
				t.Errorf("delivered %s, want %s", got, want)
			}
		})
	}
}

func TestSubscriberHistoryRetry(t *testing.T) {
	t.Parallel()
	rdb, srv := realRedis(t)
	sink := &recordingSink{}
	h := newHistory(t, rdb, history.Config{})
	s := newSubscriber(t, rdb, h, sink, pubsub.SubscriberConfig{})
	channel := keyPrefix(t) + ":chan"
	run(t, s)
	poll.Until(t, "subscription", s.Ready)

	// Writes fail (NOREPLICAS) while reads and pubsub keep working.
	if _, err := srv.Do("CONFIG", "SET", "min-replicas-to-write", "1"); err != nil {
		t.Fatalf("CONFIG SET: %v", err)
	}
	for i := range 3 {
		publish(t, rdb, channel, bare(fmt.Sprintf("m%d", i), channel))
	}
	poll.Until(t, "deliveries during the write outage", func() bool { return len(sink.deliveries()) == 3 })
	if st := s.Stats(); st.HistoryWritten != 0 {
		t.Fatalf("HistoryWritten = %d while writes fail", st.HistoryWritten)
	}
	if _, err := srv.Do("CONFIG", "SET", "min-replicas-to-write", "0"); err != nil {
		t.Fatalf("CONFIG SET: %v", err)
	}
	poll.Until(t, "entries stored after the outage", func() bool { return s.Stats().HistoryWritten == 3 })
	list, err := h.List(context.Background(), testHost)
	if err != nil || len(list) != 3 {
		t.Fatalf("history = %v, %v; want 3 entries", ids(list), err)
	}
	for r, n := range s.Stats().Dropped {
		if n != 0 {
			t.Errorf("Dropped[%s] = %d, want no drops", r, n)
		}
	}
}

func TestSubscriberHistoryRejected(t *testing.T) {
	t.Parallel()
	rdb, _ := realRedis(t)
	ctx := context.Background()
	h := newHistory(t, rdb, history.Config{})
	const broken = "https://broken.example.com"
	if err := rdb.Set(ctx, h.ListKey(broken), "not a list", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	sink := &recordingSink{}
	s := newSubscriber(t, rdb, h, sink, pubsub.SubscriberConfig{})
	channel := keyPrefix(t) + ":chan"
	run(t, s)
	poll.Until(t, "subscription", s.Ready)

	publish(t, rdb, channel, bare("ok 1", channel))
	m := newMessage("broken")
	m.Channel, m.Host = channel, broken
	publish(t, rdb, channel, string(m.AppendJSON(nil, true)))
	publish(t, rdb, channel, bare("ok 2", channel))

	poll.Until(t, "the broken entry rejected", func() bool {
		st := s.Stats()
		return st.Dropped[pubsub.DropHistoryRejected] == 1 && st.HistoryWritten == 2 && st.HistoryDuplicates == 0
	})
	if got := len(sink.deliveries()); got != 3 {
		t.Errorf("delivered %d messages, want 3 (history failures do not stop delivery)", got)
	}
}

func TestSubscriberShutdown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		writesFail bool
	}{
		{"flushes what was queued", false},
		{"gives up after FlushTimeout", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rdb, srv := realRedis(t)
			h := newHistory(t, rdb, history.Config{})
			sink := newBlockingSink()
			flush := time.Minute // never reached when writes succeed
			if tt.writesFail {
				flush = 50 * time.Millisecond
			}
			s := newSubscriber(t, rdb, h, sink, pubsub.SubscriberConfig{FlushTimeout: flush})
			channel := keyPrefix(t) + ":chan"
			stop := run(t, s)
			poll.Until(t, "subscription", s.Ready)
			if tt.writesFail {
				if _, err := srv.Do("CONFIG", "SET", "min-replicas-to-write", "1"); err != nil {
					t.Fatalf("CONFIG SET: %v", err)
				}
			}

			publish(t, rdb, channel, bare("m0", channel))
			<-sink.entered // m0 is stored (or its write failed) and being delivered
			publish(t, rdb, channel, bare("m1", channel))
			publish(t, rdb, channel, bare("m2", channel))
			poll.Until(t, "payloads queued", func() bool { return s.Stats().Received == 3 })

			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				stop() // returns once the queue is drained
			}()
			poll.Until(t, "not ready once stopping", func() bool { return !s.Ready() })
			close(sink.release)
			wg.Wait()

			st := s.Stats()
			if st.Delivered != 3 {
				t.Errorf("Delivered = %d, want 3: queued payloads are dispatched on shutdown", st.Delivered)
			}
			if tt.writesFail {
				if st.Dropped[pubsub.DropHistoryShutdown] != 3 || st.HistoryWritten != 0 || st.HistoryDeferred != 3 {
					t.Errorf("stats = %+v, want 3 deferred then history_shutdown drops", st)
				}
				return
			}
			if st.HistoryWritten != 3 {
				t.Errorf("HistoryWritten = %d, want 3", st.HistoryWritten)
			}
			list, err := h.List(context.Background(), testHost)
			if err != nil || len(list) != 3 {
				t.Errorf("history = %v, %v; want 3 entries", ids(list), err)
			}
		})
	}
}

func TestSubscriberRunOnce(t *testing.T) {
	t.Parallel()
	rdb, _ := realRedis(t)
	s := newSubscriber(t, rdb, nil, &recordingSink{}, pubsub.SubscriberConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Run(ctx); err != nil {
		t.Fatalf("Run with a done context = %v, want nil", err)
	}
	if err := s.Run(context.Background()); err == nil {
		t.Error("second Run succeeded")
	}
	if s.Ready() {
		t.Error("ready after Run returned")
	}
}

// Messages with a bad id from a producer are dropped, not repaired: the id is
// what makes storage exactly-once.
func TestSubscriberRejectsBadID(t *testing.T) {
	t.Parallel()
	rdb, _ := realRedis(t)
	sink := &recordingSink{}
	s := newSubscriber(t, rdb, nil, sink, pubsub.SubscriberConfig{})
	channel := keyPrefix(t) + ":chan"
	run(t, s)
	poll.Until(t, "subscription", s.Ready)
	m := newMessage("bad id")
	m.Channel, m.ID = channel, "has space"
	publish(t, rdb, channel, string(m.AppendJSON(nil, true)))
	publish(t, rdb, channel, bare("good", channel))
	poll.Until(t, "the good message", func() bool { return len(sink.deliveries()) == 1 })
	if got := s.Stats().Dropped[pubsub.DropInvalid]; got != 1 {
		t.Errorf("Dropped[invalid] = %d, want 1", got)
	}
}
