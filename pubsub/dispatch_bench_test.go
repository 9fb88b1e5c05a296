package pubsub

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/message"
)

type discardSink struct{}

func (discardSink) Deliver(*message.Message, []byte) {}

// BenchmarkDispatch measures the dispatcher's work per message: decode,
// derive or keep the id, skip duplicates, validate, encode the stored and
// push forms, deliver, remember the id.
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
	for _, p := range payloads {
		b.Run(p.name, func(b *testing.B) {
			s, err := NewSubscriber(rdb, nil, discardSink{}, SubscriberConfig{})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.SetBytes(int64(len(p.payloads[0])))
			i := 0
			for b.Loop() {
				if _, ok := s.process(ctx, p.payloads[i%distinct]); !ok {
					b.Fatal("dropped")
				}
				i++
			}
		})
	}
}
