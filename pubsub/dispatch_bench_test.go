package pubsub

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/redistest"
	"github.com/notifyd/notifyd/message"
)

type discardSink struct{}

func (discardSink) Deliver(*message.Message, []byte) {}

// discardStore is an entryStore that stores nothing and reports every entry
// added, at no cost: the benchmark measures the dispatcher, not Redis.
type discardStore struct{}

func (discardStore) AppendBatch(_ context.Context, entries []history.Entry) ([]bool, error) {
	added := make([]bool, len(entries))
	for i := range added {
		added[i] = true
	}
	return added, nil
}

// BenchmarkDispatch measures the dispatcher's work per message: decode,
// derive or keep the id, skip duplicates, validate, encode the stored and
// push forms, store the batch (one AppendBatch per batch), deliver, remember
// the id. "store=none" stores into a no-op store (the dispatcher's own
// cost); "store=redis" into a real redis-server on loopback, so that one
// round trip per batch is part of the cost. batch is how many payloads each
// flush takes (HistoryBatch, when the queue holds that many).
func BenchmarkDispatch(b *testing.B) {
	m := &message.Message{
		Host: "https://app.example.com", Channel: "chat:main", Action: "notify",
		Category: "content.review", Status: "info", Title: "Review requested",
		Body:      "Please review the page « Home » before Friday.",
		Source:    &message.Source{ID: "users:alice", Title: "Alice", Avatar: "https://app.example.com/a.png"},
		Target:    &message.Target{Principals: []string{"users:bob", "role:reviewer", "group:editors"}},
		URL:       "https://app.example.com/page",
		Timestamp: "2025-01-18T17:20:54.123456+00:00",
	}
	// Distinct payloads, more than the recent-ids set holds, so that none is
	// skipped as a duplicate while the set's upkeep is measured.
	const distinct = 2 * DefaultRecentIDs
	var ids message.IDGen
	now := time.Now()
	bare := make([]string, distinct)
	withID := make([]string, distinct)
	for i := range distinct {
		c := m.Clone()
		c.Title = fmt.Sprintf("Review requested #%d", i)
		bare[i] = string(c.AppendJSON(nil, true))
		c.ID = ids.New(now)
		withID[i] = string(c.AppendJSON(nil, true))
	}
	payloads := []struct {
		name     string
		payloads []string
	}{
		{"bare", bare},
		{"with_id", withID},
	}
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never contacted
	b.Cleanup(func() { _ = rdb.Close() })
	srv := redistest.Start(b)
	live := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	b.Cleanup(func() { _ = live.Close() })
	h, err := history.New(live, history.Config{Key: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	stores := []struct {
		name  string
		store entryStore
	}{
		{"none", discardStore{}},
		{"redis", h},
	}
	for _, st := range stores {
		for _, batch := range []int{1, DefaultHistoryBatch} {
			for _, p := range payloads {
				b.Run(fmt.Sprintf("store=%s/batch=%d/%s", st.name, batch, p.name), func(b *testing.B) {
					s, err := NewSubscriber(rdb, nil, discardSink{}, SubscriberConfig{})
					if err != nil {
						b.Fatal(err)
					}
					d := newDispatcher(s.cfg, st.store, nil, nil, discardSink{}, s.rep, nil, nil)
					ctx := context.Background()
					b.ReportAllocs()
					b.SetBytes(int64(len(p.payloads[0])))
					i := 0
					for b.Loop() {
						d.prepare(ctx, p.payloads[i%distinct])
						if i++; i%batch == 0 {
							d.flush(ctx)
						}
					}
					d.flush(ctx)
					stats := s.Stats()
					if stats.Delivered != uint64(i) || stats.HistoryDeferred != 0 {
						b.Fatalf("delivered %d of %d, deferred %d", stats.Delivered, i, stats.HistoryDeferred)
					}
				})
			}
		}
	}
}
