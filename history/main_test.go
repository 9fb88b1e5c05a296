package history_test

import (
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/redistest"
	"github.com/notifyd/notifyd/message"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// backend is a Redis for a test: a client, and the server when it is real.
type backend struct {
	name string
	new  func(t testing.TB) (*redis.Client, *redistest.Server)
}

// backends runs Redis-touching tests on miniredis (fast) and on a real
// redis-server (the truth).
var backends = []backend{
	{"miniredis", func(t testing.TB) (*redis.Client, *redistest.Server) {
		return newClient(t, miniredis.RunT(t).Addr()), nil
	}},
	{"redis", func(t testing.TB) (*redis.Client, *redistest.Server) {
		srv := redistest.Start(t)
		return newClient(t, srv.Addr()), srv
	}},
}

// newClient returns a client that fails fast while a test has stopped the
// server.
func newClient(t testing.TB, addr string) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{
		Addr: addr, MaxRetries: 1, MinRetryBackoff: time.Millisecond, MaxRetryBackoff: 5 * time.Millisecond,
		DialTimeout: time.Second, DialerRetries: 1, DialerRetryTimeout: time.Millisecond,
	})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// realRedis starts a redis-server and a client for it.
func realRedis(t testing.TB) (*redis.Client, *redistest.Server) {
	t.Helper()
	return backends[1].new(t)
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
