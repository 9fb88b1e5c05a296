package pubsub_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/pubsub"
)

// historySink is a recordingSink that reads, from inside Deliver and on a
// client of its own, the history list of the message's site, and records
// whether the message was already there: a client that connects right after
// the delivery and reads the history (?since=) must find it.
type historySink struct {
	recordingSink
	h *history.Store

	mu    sync.Mutex
	found map[string]bool // by title
}

func newHistorySink(h *history.Store) *historySink {
	return &historySink{h: h, found: map[string]bool{}}
}

func (s *historySink) Deliver(m *message.Message, push []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list, err := s.h.List(ctx, m.Host)
	in := err == nil && slices.ContainsFunc(list, func(x *message.Message) bool { return x.ID == m.ID })
	s.mu.Lock()
	s.found[m.Title] = in
	s.mu.Unlock()
	s.recordingSink.Deliver(m, push)
}

// stored reports whether the message titled title was in its history when
// it was delivered.
func (s *historySink) stored(title string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.found[title]
}

// A bare PUBLISH is in its site's history before any gateway delivers it,
// whichever of two gateways stores it.
func TestSubscriberStoresBeforeDelivery(t *testing.T) {
	t.Parallel()
	_, srv := realRedis(t)
	channel := keyPrefix(t) + ":chan"
	hcfg := history.Config{Key: keyPrefix(t), Length: 200}
	var subs []*pubsub.Subscriber
	var sinks []*historySink
	for range 2 {
		rdb, check := newClient(t, srv.Addr()), newClient(t, srv.Addr())
		sink := newHistorySink(newHistory(t, check, hcfg))
		s := newSubscriber(t, rdb, newHistory(t, rdb, hcfg), sink, pubsub.SubscriberConfig{
			Channel:      channel,
			StoreTimeout: time.Minute, // however loaded the machine, no write is given up
		})
		run(t, s)
		subs, sinks = append(subs, s), append(sinks, sink)
	}
	poll.Until(t, "subscriptions", func() bool { return subs[0].Ready() && subs[1].Ready() })

	producer := newClient(t, srv.Addr())
	const n = 100
	var titles []string
	ctx := context.Background()
	// Pipelined, so that the gateways read several at a time and store them
	// in batches.
	if _, err := producer.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range n {
			title := fmt.Sprintf("bare %d", i)
			titles = append(titles, title)
			p.Publish(ctx, channel, bare(title, channel))
		}
		return nil
	}); err != nil {
		t.Fatalf("PUBLISH: %v", err)
	}
	for i, sink := range sinks {
		poll.Until(t, "every delivery", func() bool { return len(sink.deliveries()) == n })
		if got := sink.titles(); !slices.Equal(got, titles) {
			t.Errorf("gateway %d delivered %v, want %v", i, got, titles)
		}
		for _, title := range titles {
			if !sink.stored(title) {
				t.Errorf("gateway %d delivered %q before it was in the history", i, title)
			}
		}
	}
	var written uint64
	for i, s := range subs {
		st := s.Stats()
		written += st.HistoryWritten
		if st.HistoryDeferred != 0 || st.HistoryPending != 0 || st.HistoryWritten+st.HistoryDuplicates != n {
			t.Errorf("gateway %d stats = %+v, want every message stored or found stored, none deferred", i, st)
		}
	}
	if written != n {
		t.Errorf("the gateways stored %d messages, want %d", written, n)
	}
}

// When the history cannot be written (its server is down, or does not
// answer within StoreTimeout), messages are delivered all the same, stored
// once it is back, in the order they were read, and then the gateway stores
// before it delivers again. The subscription and the history use different
// servers here, so that the history can fail alone.
func TestSubscriberDeliversWhileHistoryFails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		stall bool // the history's server does not answer (else it is stopped)
	}{
		{"history server stopped", false},
		{"history server does not answer", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rdb, _ := realRedis(t) // the channel
			_, histSrv := realRedis(t)
			ctx := context.Background()
			channel := keyPrefix(t) + ":chan"
			hcfg := history.Config{Key: keyPrefix(t)}
			histAddr := histSrv.Addr()
			var proxy *stallProxy
			if tt.stall {
				proxy = newStallProxy(t, histSrv.Addr())
				histAddr = proxy.Addr()
			}
			histClient := redis.NewClient(&redis.Options{
				Addr: histAddr, MaxRetries: 1, MinRetryBackoff: time.Millisecond, MaxRetryBackoff: 5 * time.Millisecond,
				DialTimeout: 200 * time.Millisecond, ReadTimeout: 200 * time.Millisecond,
				DialerRetries: 1, DialerRetryTimeout: time.Millisecond,
			})
			t.Cleanup(func() { _ = histClient.Close() })
			// Dial before the test: the first write must not spend its
			// StoreTimeout dialing on a loaded machine.
			if err := histClient.Ping(ctx).Err(); err != nil {
				t.Fatalf("PING: %v", err)
			}
			direct := newClient(t, histSrv.Addr())
			h := newHistory(t, direct, hcfg)
			sink := newHistorySink(h)
			s := newSubscriber(t, rdb, newHistory(t, histClient, hcfg), sink, pubsub.SubscriberConfig{
				// Generous, so that only the stalled write times out; it
				// costs the test one StoreTimeout.
				Channel: channel, StoreTimeout: time.Second,
			})
			run(t, s)
			poll.Until(t, "subscription", s.Ready)

			publish(t, rdb, channel, bare("before", channel))
			poll.Until(t, "before", func() bool { return len(sink.deliveries()) == 1 })
			if tt.stall {
				proxy.Stall()
			} else {
				histSrv.Stop()
			}
			outage := []string{"m0", "m1", "m2"}
			for _, title := range outage {
				publish(t, rdb, channel, bare(title, channel))
			}
			poll.Until(t, "deliveries during the outage", func() bool { return len(sink.deliveries()) == 4 })
			poll.Until(t, "the outage's messages waiting", func() bool { return s.Stats().HistoryPending == 3 })
			if tt.stall {
				proxy.Unstall()
			} else {
				histSrv.Restart() // empty: not persistent
			}
			// A write that timed out may still reach Redis (the stalled
			// bytes flow once the server answers): its retry then finds it
			// stored.
			poll.Until(t, "the outage's messages stored", func() bool {
				st := s.Stats()
				return st.HistoryPending == 0 && st.HistoryWritten+st.HistoryDuplicates >= 4
			})
			publish(t, rdb, channel, bare("after", channel))
			poll.Until(t, "after", func() bool { return len(sink.deliveries()) == 5 })

			want := append(slices.Clone(outage), "after")
			if tt.stall {
				want = append([]string{"before"}, want...) // the server kept it
			}
			list, err := h.List(ctx, testHost)
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			var got []string
			for _, m := range slices.Backward(list) {
				got = append(got, m.Title)
			}
			if !slices.Equal(got, want) {
				t.Errorf("history = %v, want %v (oldest first)", got, want)
			}
			for _, title := range []string{"before", "after"} {
				if !sink.stored(title) {
					t.Errorf("%q delivered before it was stored", title)
				}
			}
			for _, title := range outage {
				if sink.stored(title) {
					t.Errorf("%q was in the history during the outage", title)
				}
			}
			st := s.Stats()
			if st.HistoryDeferred != 3 || st.Delivered != 5 {
				t.Errorf("stats = %+v, want 5 delivered, 3 deferred", st)
			}
			for r, n := range st.Dropped {
				if n != 0 {
					t.Errorf("Dropped[%s] = %d, want no drops", r, n)
				}
			}
		})
	}
}
