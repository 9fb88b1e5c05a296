package pubsub

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/message"
)

type discardSink struct{}

func (discardSink) Deliver(*message.Message, []byte) {}

// BenchmarkDispatch measures the dispatcher's work per message: decode,
// derive or keep the id, validate, encode the stored and push forms, deliver.
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
	withID := m.Clone()
	withID.ID = "01JHX7Z5Q2ZB7Y8W9V0T1S2R3Q"
	payloads := []struct {
		name, payload string
	}{
		{"bare", string(m.AppendJSON(nil, true))},
		{"with_id", string(withID.AppendJSON(nil, true))},
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
			b.SetBytes(int64(len(p.payload)))
			for b.Loop() {
				if _, ok := s.process(ctx, p.payload); !ok {
					b.Fatal("dropped")
				}
			}
		})
	}
}
