package pubsub_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/redistest"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/pubsub"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// backends runs Redis-touching tests on miniredis (fast) and on a real
// redis-server (the truth).
var backends = redistest.Backends()

// newClient returns a client that fails fast while a test has stopped the
// server.
func newClient(t testing.TB, addr string) *redis.Client { return redistest.Client(t, addr) }

// realRedis starts a redis-server and a client for it.
func realRedis(t testing.TB) (*redis.Client, *redistest.Server) {
	t.Helper()
	return backends[1].New(t)
}

// keyPrefix is a history key unique to the test.
func keyPrefix(t testing.TB) string {
	return "test:" + strings.NewReplacer("/", ":", " ", "_").Replace(t.Name())
}

const testHost = "https://app.example.com"

// newMessage returns a complete, valid message as a producer sends it.
func newMessage(title string) *message.Message {
	return &message.Message{
		Host:      testHost,
		Channel:   pubsub.DefaultChannel,
		Action:    "notify",
		Category:  "content.review",
		Status:    "info",
		Title:     title,
		Body:      "Please review " + title,
		Source:    &message.Source{ID: "users:alice", Title: "Alice"},
		Target:    &message.Target{Principals: []string{"users:bob"}},
		Timestamp: "2025-01-18T17:20:54.123456+00:00",
	}
}

// bare returns the JSON a PyAMS producer PUBLISHes: no id.
func bare(title, channel string) string {
	m := newMessage(title)
	m.Channel = channel
	return string(m.AppendJSON(nil, true))
}

func newHistory(t testing.TB, rdb redis.UniversalClient, cfg history.Config) *history.Store {
	t.Helper()
	if cfg.Key == "" {
		cfg.Key = keyPrefix(t)
	}
	h, err := history.New(rdb, cfg)
	if err != nil {
		t.Fatalf("NewHistory: %v", err)
	}
	return h
}

// delivery is one Deliver call.
type delivery struct {
	m    *message.Message
	push []byte
}

// recordingSink records deliveries.
type recordingSink struct {
	mu  sync.Mutex
	got []delivery
}

func (s *recordingSink) Deliver(m *message.Message, push []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, delivery{m, push})
}

func (s *recordingSink) deliveries() []delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]delivery(nil), s.got...)
}

func (s *recordingSink) titles() []string {
	var out []string
	for _, d := range s.deliveries() {
		out = append(out, d.m.Title)
	}
	return out
}

// blockingSink blocks its first Deliver until release is closed, and records.
type blockingSink struct {
	recordingSink
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func newBlockingSink() *blockingSink {
	return &blockingSink{entered: make(chan struct{}), release: make(chan struct{})}
}

func (s *blockingSink) Deliver(m *message.Message, push []byte) {
	first := false
	s.once.Do(func() { first = true })
	if first {
		close(s.entered)
		<-s.release
	}
	s.recordingSink.Deliver(m, push)
}

// run starts s.Run and stops it at cleanup, checking that it returns nil.
// It returns a function that stops it earlier (idempotent).
func run(t testing.TB, s *pubsub.Subscriber) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run returned %v, want nil", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// newSubscriber makes a subscriber on a test-unique channel with short
// backoffs, and waits until it is subscribed.
func newSubscriber(t testing.TB, rdb redis.UniversalClient, h pubsub.SubscriberHistory, sink pubsub.Sink, cfg pubsub.SubscriberConfig) *pubsub.Subscriber {
	t.Helper()
	if cfg.Channel == "" {
		cfg.Channel = keyPrefix(t) + ":chan"
	}
	if cfg.BackoffMin == 0 {
		cfg.BackoffMin, cfg.BackoffMax = 5*time.Millisecond, 50*time.Millisecond
	}
	s, err := pubsub.NewSubscriber(rdb, h, sink, cfg)
	if err != nil {
		t.Fatalf("NewSubscriber: %v", err)
	}
	return s
}

func publish(t testing.TB, rdb redis.UniversalClient, channel, payload string) {
	t.Helper()
	if err := rdb.Publish(context.Background(), channel, payload).Err(); err != nil {
		t.Fatalf("PUBLISH: %v", err)
	}
}

// ids returns the ids of ms, in order.
func ids(ms []*message.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}
