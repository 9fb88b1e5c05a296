package webhook_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/internal/redistest"
	"github.com/notifyd/notifyd/webhook"
)

const (
	testHost   = "https://app.example.com"
	testOwner  = "publisher:bots"
	testSecret = "0123456789abcdef-secret"
)

// testKey is a key prefix unique to the test.
func testKey(t testing.TB) string {
	return "test:" + strings.NewReplacer("/", ":", " ", "_").Replace(t.Name())
}

// fastConfig is a Config with short durations, loopback receivers allowed
// and the test's own key prefix.
func fastConfig(t testing.TB) webhook.Config {
	return webhook.Config{
		Key: testKey(t), AllowPrivate: true,
		Timeout: 2 * time.Second, BackoffMin: time.Millisecond, BackoffMax: 5 * time.Millisecond,
		ClaimIdle: 5 * time.Second, Concurrency: 4,
	}
}

func newStore(t testing.TB, rdb redis.UniversalClient, cfg webhook.Config) *webhook.Store {
	t.Helper()
	s, err := webhook.NewStore(rdb, cfg)
	if err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	return s
}

func register(t testing.TB, s *webhook.Store, url string, spaces ...string) webhook.Registration {
	t.Helper()
	r, err := s.Register(context.Background(), webhook.Registration{
		Host: testHost, Owner: testOwner, URL: url, Spaces: spaces, Secret: testSecret,
	})
	if err != nil {
		t.Fatalf("Register(%s): %v", url, err)
	}
	return r
}

func enqueue(t testing.TB, s *webhook.Store, space, id string) int {
	t.Helper()
	n, err := s.Enqueue(context.Background(), webhook.Event{
		Host: testHost, Space: space, ID: id, Body: []byte(`{"space":"` + space + `","id":"` + id + `"}`),
	})
	if err != nil {
		t.Fatalf("Enqueue(%s, %s): %v", space, id, err)
	}
	return n
}

// eachBackend runs test in parallel on miniredis and on a real redis-server.
func eachBackend(t *testing.T, test func(t *testing.T, rdb *redis.Client)) {
	for _, be := range redistest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			rdb, _ := be.New(t)
			test(t, rdb)
		})
	}
}

// running is a Dispatcher whose Run runs until the test ends or stop.
type running struct {
	*webhook.Dispatcher
	cancel context.CancelFunc
	done   chan error
}

// start runs a dispatcher of s with cfg; it is stopped at cleanup.
func start(t testing.TB, rdb redis.UniversalClient, s *webhook.Store, cfg webhook.Config) *running {
	t.Helper()
	d, err := webhook.NewDispatcher(rdb, s, cfg)
	if err != nil {
		t.Fatalf("NewDispatcher: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{Dispatcher: d, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- d.Run(ctx) }()
	t.Cleanup(r.stop)
	return r
}

// stop cancels Run and waits for it to return; it may be called again.
func (r *running) stop() {
	r.cancel()
	if err, ok := <-r.done; ok {
		close(r.done)
		if err != nil {
			panic("Run: " + err.Error())
		}
	}
}

// request is one POST a receiver got.
type request struct {
	header http.Header
	body   []byte
}

// receiver is an httptest server that records every POST and answers
// with answer (nil: 200).
type receiver struct {
	*httptest.Server
	answer func(n int, w http.ResponseWriter, r *http.Request) // n counts the requests from 1

	mu   sync.Mutex // guards reqs
	reqs []request
}

func newReceiver(t testing.TB, answer func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{answer: answer}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, request{header: r.Header.Clone(), body: body})
		n := len(rc.reqs)
		rc.mu.Unlock()
		if rc.answer != nil {
			rc.answer(n, w, r)
		}
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]request(nil), rc.reqs...)
}

func (rc *receiver) count() int { return len(rc.requests()) }
