package pubsub_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/pubsub"
)

func TestNewSubscriberConfig(t *testing.T) {
	t.Parallel()
	rdb := newClient(t, "127.0.0.1:1") // never contacted
	tests := []struct {
		name string
		cfg  pubsub.SubscriberConfig
	}{
		{"negative queue", pubsub.SubscriberConfig{QueueSize: -1}},
		{"negative batch", pubsub.SubscriberConfig{HistoryBatch: -1}},
		{"negative retry queue", pubsub.SubscriberConfig{HistoryRetryQueueSize: -1}},
		{"max backoff below min", pubsub.SubscriberConfig{BackoffMin: time.Second, BackoffMax: time.Millisecond}},
		{"control channel is the data channel", pubsub.SubscriberConfig{Channel: "c", ControlChannel: "c"}},
		{"control channel is the default data channel", pubsub.SubscriberConfig{ControlChannel: pubsub.DefaultChannel}},
		{"negative recent ids", pubsub.SubscriberConfig{RecentIDs: -1}},
		{"negative gap fill sites", pubsub.SubscriberConfig{GapFillSites: -1}},
		{"negative gap fill margin", pubsub.SubscriberConfig{GapFillMargin: -time.Second}},
		{"negative store timeout", pubsub.SubscriberConfig{StoreTimeout: -time.Millisecond}},
	}
	for _, tt := range tests {
		if _, err := pubsub.NewSubscriber(rdb, nil, &recordingSink{}, tt.cfg); err == nil {
			t.Errorf("%s: NewSubscriber succeeded", tt.name)
		}
	}
	if _, err := pubsub.NewSubscriber(rdb, nil, nil, pubsub.SubscriberConfig{}); err == nil {
		t.Error("NewSubscriber with a nil sink succeeded")
	}
	if _, err := pubsub.NewSubscriber(nil, nil, &recordingSink{}, pubsub.SubscriberConfig{}); err == nil {
		t.Error("NewSubscriber with a nil client succeeded")
	}
	s, err := pubsub.NewSubscriber(rdb, nil, &recordingSink{}, pubsub.SubscriberConfig{})
	if err != nil {
		t.Fatalf("NewSubscriber with defaults: %v", err)
	}
	if s.Ready() {
		t.Error("Ready before Run")
	}
	st := s.Stats()
	if len(st.Dropped) != len(pubsub.DropReasons()) {
		t.Errorf("Stats().Dropped = %v, want every reason", st.Dropped)
	}
}

func TestSubscriberDelivers(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			rdb, _ := b.New(t)
			ctx := context.Background()
			h := newHistory(t, rdb, history.Config{})
			sink := &recordingSink{}
			var resolved sync.Map
			resolver := resolverFunc(func(_ context.Context, m *message.Message) error {
				resolved.Store(m.Title, true)
				m.Target = &message.Target{Principals: []string{"role:reader"}}
				return nil
			})
			var subscribed []bool
			var mu sync.Mutex
			s := newSubscriber(t, rdb, h, sink, pubsub.SubscriberConfig{
				Resolver: resolver,
				OnSubscribed: func(_ context.Context, reconnect bool) {
					mu.Lock()
					defer mu.Unlock()
					subscribed = append(subscribed, reconnect)
				},
			})
			channel := keyPrefix(t) + ":chan"
			run(t, s)
			poll.Until(t, "subscription", s.Ready)

			// A bare PyAMS PUBLISH: no id, no target.
			m := newMessage("bare")
			m.Channel, m.Target = channel, nil
			payload := string(m.AppendJSON(nil, true))
			publish(t, rdb, channel, payload)
			poll.Until(t, "delivery", func() bool { return len(sink.deliveries()) == 1 })

			d := sink.deliveries()[0]
			wantID := message.DeriveID(m.Timestamp, []byte(payload))
			if d.m.ID != wantID {
				t.Errorf("id = %q, want DeriveID of the payload %q", d.m.ID, wantID)
			}
			if _, ok := resolved.Load("bare"); !ok || d.m.Principals()[0] != "role:reader" {
				t.Errorf("target = %v, want the resolver's", d.m.Principals())
			}
			if bytes.Contains(d.push, []byte("target")) || !bytes.Equal(d.push, d.m.PushJSON()) {
				t.Errorf("push = %s, want the message without target", d.push)
			}

			poll.Until(t, "history write", func() bool { return s.Stats().HistoryWritten == 1 })
			list, err := h.List(ctx, testHost)
			if err != nil || len(list) != 1 || list[0].ID != wantID || list[0].Principals()[0] != "role:reader" {
				t.Fatalf("history = %v, %v; want the message with its resolved target", ids(list), err)
			}
			st := s.Stats()
			if st.Received != 1 || st.Delivered != 1 || st.Reconnects != 0 {
				t.Errorf("stats = %+v", st)
			}
			mu.Lock()
			if fmt.Sprint(subscribed) != "[false]" {
				t.Errorf("OnSubscribed calls = %v, want [false]", subscribed)
			}
			mu.Unlock()
		})
	}
}
