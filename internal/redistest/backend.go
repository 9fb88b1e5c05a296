package redistest

import (
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Backend is a Redis for a test: New returns a client and, when the Redis is
// a real redis-server, the server (nil for miniredis).
type Backend struct {
	Name string
	New  func(tb testing.TB) (*redis.Client, *Server)
}

// Backends are the Redis a test runs on: miniredis (fast) and a real
// redis-server on a free loopback port (the truth).
func Backends() []Backend {
	return []Backend{
		{"miniredis", func(tb testing.TB) (*redis.Client, *Server) {
			return Client(tb, miniredis.RunT(tb).Addr()), nil
		}},
		{"redis", func(tb testing.TB) (*redis.Client, *Server) {
			srv := Start(tb)
			return Client(tb, srv.Addr()), srv
		}},
	}
}

// Client returns a client of addr, closed at the end of the test, that
// fails fast while a test has stopped the server.
func Client(tb testing.TB, addr string) *redis.Client {
	tb.Helper()
	rdb := redis.NewClient(&redis.Options{
		Addr: addr, MaxRetries: 1, MinRetryBackoff: time.Millisecond, MaxRetryBackoff: 5 * time.Millisecond,
		DialTimeout: time.Second, DialerRetries: 1, DialerRetryTimeout: time.Millisecond,
	})
	tb.Cleanup(func() { _ = rdb.Close() })
	return rdb
}
