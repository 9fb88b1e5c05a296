package pubsub_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/pubsub"
)

// resolverFunc adapts a function to pubsub.Resolver.
type resolverFunc func(ctx context.Context, m *message.Message) error

func (f resolverFunc) Resolve(ctx context.Context, m *message.Message) error { return f(ctx, m) }

// subscribeRaw subscribes a plain go-redis PubSub and waits for the confirmation.
func subscribeRaw(t testing.TB, rdb *redis.Client, channel string) *redis.PubSub {
	t.Helper()
	ps := rdb.Subscribe(context.Background(), channel)
	t.Cleanup(func() { _ = ps.Close() })
	if _, err := ps.ReceiveTimeout(context.Background(), 5*time.Second); err != nil {
		t.Fatalf("subscription confirmation: %v", err)
	}
	return ps
}

func TestPublisherPublish(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 18, 17, 20, 54, 123456000, time.UTC)
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			rdb, _ := b.New(t)
			ctx := context.Background()
			h := newHistory(t, rdb, history.Config{})
			channel := keyPrefix(t) + ":chan"
			pub, err := pubsub.NewPublisher(rdb, h, pubsub.PublisherConfig{
				Channel: channel, Now: func() time.Time { return now },
			})
			if err != nil {
				t.Fatalf("NewPublisher: %v", err)
			}
			raw := subscribeRaw(t, rdb, channel)

			m := &message.Message{
				Host: testHost, Action: "notify", Category: "content.review",
				Title: "Review requested", Body: "Please review",
				Source: &message.Source{ID: "users:alice", Title: "Alice"},
				Target: &message.Target{Principals: []string{"users:bob"}},
			}
			if err := pub.Publish(ctx, m); err != nil {
				t.Fatalf("Publish: %v", err)
			}
			if len(m.ID) != message.IDLength || m.Timestamp != "2025-01-18T17:20:54.123456+00:00" ||
				m.Channel != channel || m.Status != "info" {
				t.Errorf("Publish filled %+v", m)
			}
			if tm, ok := message.IDTime(m.ID); !ok || !tm.Equal(now.Truncate(time.Millisecond)) {
				t.Errorf("IDTime(%q) = %v, %v; want %v", m.ID, tm, ok, now)
			}

			got, err := raw.ReceiveMessage(ctx)
			if err != nil {
				t.Fatalf("receive: %v", err)
			}
			if want := string(m.AppendJSON(nil, true)); got.Payload != want {
				t.Errorf("published %s\nwant       %s", got.Payload, want)
			}
			list, err := h.List(ctx, testHost)
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if len(list) != 1 || list[0].ID != m.ID || !list[0].HasTarget() {
				t.Fatalf("history = %v, want the published message with its target", ids(list))
			}

			// Publishing the same message again (a retry) keeps one history copy.
			if err := pub.Publish(ctx, m); err != nil {
				t.Fatalf("second Publish: %v", err)
			}
			if n, _ := rdb.LLen(ctx, h.ListKey(testHost)).Result(); n != 1 {
				t.Errorf("history has %d entries after a retry, want 1", n)
			}
		})
	}
}

func TestPublisherResolver(t *testing.T) {
	t.Parallel()
	rdb, _ := realRedis(t)
	ctx := context.Background()
	errLookup := errors.New("lookup failed")
	var calls atomic.Int32
	resolver := resolverFunc(func(_ context.Context, m *message.Message) error {
		calls.Add(1)
		if m.HasTarget() { // the contract: existing principals are kept
			return nil
		}
		switch m.Category {
		case "fail":
			return errLookup
		case "nobody":
			return nil
		}
		m.Target = &message.Target{Principals: []string{"role:" + m.Category}}
		return nil
	})
	h := newHistory(t, rdb, history.Config{})
	pub, err := pubsub.NewPublisher(rdb, h, pubsub.PublisherConfig{Channel: keyPrefix(t), Resolver: resolver})
	if err != nil {
		t.Fatalf("NewPublisher: %v", err)
	}
	tests := []struct {
		name       string
		category   string
		target     []string
		wantCalls  int32
		wantErr    error
		wantTarget string
	}{
		{"keeps a given target", "reviewers", []string{"users:bob"}, 1, nil, "users:bob"},
		{"resolves a missing target", "reviewers", nil, 1, nil, "role:reviewers"},
		{"resolver error", "fail", nil, 1, errLookup, ""},
		{"no target anywhere", "nobody", nil, 1, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := calls.Load()
			m := newMessage(tt.name)
			m.Channel, m.Category, m.Target = "", tt.category, nil
			if tt.target != nil {
				m.Target = &message.Target{Principals: tt.target}
			}
			err := pub.Publish(ctx, m)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Publish err = %v, want %v", err, tt.wantErr)
			}
			if got := calls.Load() - before; got != tt.wantCalls {
				t.Errorf("resolver called %d times, want %d", got, tt.wantCalls)
			}
			if got := strings.Join(m.Principals(), ","); err == nil && got != tt.wantTarget {
				t.Errorf("target = %q, want %q", got, tt.wantTarget)
			}
		})
	}
}

func TestPublisherRejects(t *testing.T) {
	t.Parallel()
	rdb, _ := realRedis(t)
	ctx := context.Background()
	h := newHistory(t, rdb, history.Config{})
	pub, err := pubsub.NewPublisher(rdb, h, pubsub.PublisherConfig{Channel: "c", MaxMessageSize: 1024})
	if err != nil {
		t.Fatalf("NewPublisher: %v", err)
	}
	tests := []struct {
		name   string
		edit   func(m *message.Message)
		want   error
		nilMsg bool
	}{
		{"nil message", nil, message.ErrInvalid, true},
		{"other channel", func(m *message.Message) { m.Channel = "elsewhere" }, message.ErrInvalid, false},
		{"no title", func(m *message.Message) { m.Title = "" }, message.ErrInvalid, false},
		{"no source", func(m *message.Message) { m.Source = nil }, message.ErrInvalid, false},
		{"host with a path", func(m *message.Message) { m.Host = "https://app.example.com/x" }, message.ErrInvalid, false},
		{"bad id", func(m *message.Message) { m.ID = "a b" }, message.ErrInvalid, false},
		{"too large", func(m *message.Message) { m.Body = strings.Repeat("x", 1024) }, message.ErrTooLarge, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m *message.Message
			if !tt.nilMsg {
				m = newMessage(tt.name)
				m.Channel = "c"
				tt.edit(m)
			}
			if err := pub.Publish(ctx, m); !errors.Is(err, tt.want) {
				t.Errorf("Publish err = %v, want %v", err, tt.want)
			}
		})
	}
	if list, err := h.List(ctx, testHost); err != nil || len(list) != 0 {
		t.Errorf("history after rejected publishes = %v, %v; want empty", ids(list), err)
	}
	if _, err := pubsub.NewPublisher(nil, h, pubsub.PublisherConfig{}); err == nil {
		t.Error("NewPublisher(nil) succeeded")
	}
}

func TestPublisherUnavailable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		history bool
	}{
		{"history append fails", true},
		{"publish fails", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rdb, srv := realRedis(t)
			var h pubsub.PublisherHistory
			if tt.history {
				h = newHistory(t, rdb, history.Config{})
			}
			pub, err := pubsub.NewPublisher(rdb, h, pubsub.PublisherConfig{})
			if err != nil {
				t.Fatalf("NewPublisher: %v", err)
			}
			if err := pub.Publish(context.Background(), newMessage("up")); err != nil {
				t.Fatalf("Publish while Redis runs: %v", err)
			}
			srv.Stop()
			err = pub.Publish(context.Background(), newMessage("down"))
			if !errors.Is(err, pubsub.ErrUnavailable) {
				t.Fatalf("Publish with Redis stopped: err = %v, want ErrUnavailable", err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			err = pub.Publish(ctx, newMessage("canceled"))
			if !errors.Is(err, context.Canceled) || errors.Is(err, pubsub.ErrUnavailable) {
				t.Errorf("Publish with a canceled context: err = %v, want context.Canceled only", err)
			}
			srv.Restart()
			poll.Until(t, "Publish to succeed after Restart", func() bool {
				return pub.Publish(context.Background(), newMessage("again")) == nil
			})
		})
	}
}
