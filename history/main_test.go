package history_test

import (
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/redistest"
	"github.com/notifyd/notifyd/message"
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

const testHost = "https://app.example.com"

// newMessage returns a complete, valid message as a producer sends it.
func newMessage(title string) *message.Message {
	return &message.Message{
		Host: testHost, Channel: "chat:main", Action: "notify", Category: "content.review", Status: "info",
		Title: title, Body: "Please review " + title, Source: &message.Source{ID: "users:alice", Title: "Alice"},
		Target: &message.Target{Principals: []string{"users:bob"}}, Timestamp: "2025-01-18T17:20:54.123456+00:00",
	}
}

// newHistory returns a Store whose key, unless cfg sets one, is unique to
// the test.
func newHistory(t testing.TB, rdb redis.UniversalClient, cfg history.Config) *history.Store {
	t.Helper()
	if cfg.Key == "" {
		cfg.Key = "test:" + strings.NewReplacer("/", ":", " ", "_").Replace(t.Name())
	}
	h, err := history.New(rdb, cfg)
	if err != nil {
		t.Fatalf("history.New: %v", err)
	}
	return h
}
