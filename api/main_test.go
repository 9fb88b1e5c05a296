package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/site"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const (
	testSecret     = "0123456789abcdef0123456789abcdef"
	publisherToken = "publisher-token-0123456789"
	siteA          = "https://a.example"
	siteB          = "https://b.example"
	siteEvil       = "https://evil.example"
	// secretDetail is internal error text that must never reach a client.
	secretDetail = "dial tcp 10.1.2.3:6379: connection refused (secret-detail)"
)

// fixedNow is the server clock in tests.
func fixedNow() time.Time { return time.Date(2025, 1, 18, 17, 21, 0, 0, time.UTC) }

// fakeHistory returns fixed newest-first lists per host, or err.
type fakeHistory struct {
	lists map[string][]*message.Message // immutable after construction
	err   error
}

func (h *fakeHistory) List(_ context.Context, host string) ([]*message.Message, error) {
	if h.err != nil {
		return nil, h.err
	}
	return h.lists[host], nil
}

// countingHistory records the hosts it is asked for and returns nothing.
type countingHistory struct {
	mu  sync.Mutex
	got []string // guarded by mu
}

func (h *countingHistory) List(_ context.Context, host string) ([]*message.Message, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.got = append(h.got, host)
	return nil, nil
}

func (h *countingHistory) hosts() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.got...)
}

// recordingPublisher fills what a real publisher fills, validates, records
// the message, and returns err instead when set.
type recordingPublisher struct {
	err error // immutable after construction
	ids message.IDGen

	mu  sync.Mutex
	got []*message.Message // guarded by mu
}

func (p *recordingPublisher) PublishIdempotent(_ context.Context, _ string, m *message.Message) (bool, error) {
	if p.err != nil {
		return false, p.err
	}
	if m.ID == "" {
		m.ID = p.ids.New(fixedNow())
	}
	if m.Timestamp == "" {
		m.Timestamp = message.FormatTimestamp(fixedNow())
	}
	if m.Channel == "" {
		m.Channel = "chat:main"
	}
	if m.Status == "" {
		m.Status = "info"
	}
	if err := m.Validate(); err != nil {
		return false, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got = append(p.got, m.Clone())
	return false, nil
}

func (p *recordingPublisher) published() []*message.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*message.Message(nil), p.got...)
}

type fixedCategories []string

func (c fixedCategories) Categories() []string { return c }

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fixture is a running router with fakes behind it.
type fixture struct {
	srv  *httptest.Server
	pub  *recordingPublisher
	logs *syncBuffer
}

// testConfig returns a complete Config for tests; opts adjust it.
func testConfig(tb testing.TB, logs io.Writer, opts ...func(*Config)) Config {
	tb.Helper()
	v, err := auth.NewVerifier(auth.Config{Secret: []byte(testSecret)})
	if err != nil {
		tb.Fatal(err)
	}
	pt, err := auth.NewPublisherTokens([]string{publisherToken})
	if err != nil {
		tb.Fatal(err)
	}
	sites, err := site.NewPolicy([]string{siteA, siteB}, siteA)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := Config{
		Auth:            v,
		PublisherTokens: pt,
		Sites:           sites,
		Publisher:       &recordingPublisher{},
		History:         &fakeHistory{},
		Categories:      fixedCategories{"user.login", "content.review"},
		Logger:          slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:             fixedNow,
	}
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

func newFixture(tb testing.TB, opts ...func(*Config)) *fixture {
	tb.Helper()
	f := &fixture{logs: &syncBuffer{}}
	cfg := testConfig(tb, f.logs, opts...)
	f.pub, _ = cfg.Publisher.(*recordingPublisher)
	h, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	f.srv = newServer(tb, h)
	return f
}

// newServer serves h on a loopback port until the test ends.
func newServer(tb testing.TB, h http.Handler) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return srv
}

func withHistory(lists map[string][]*message.Message) func(*Config) {
	return func(c *Config) { c.History = &fakeHistory{lists: lists} }
}

// mint returns a user JWT valid for an hour.
func mint(tb testing.TB, sub, name string, principals ...string) string {
	tb.Helper()
	tok, err := auth.Mint([]byte(testSecret), sub, name, principals, time.Now(), time.Hour)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// response is what the request helper returns.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends one request; headers are name, value pairs.
func (f *fixture) do(tb testing.TB, method, path, body string, headers ...string) response {
	tb.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	res, err := f.srv.Client().Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

// wantStatus fails unless r has status.
func (r response) wantStatus(tb testing.TB, status int) response {
	tb.Helper()
	if r.status != status {
		tb.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	return r
}

// wantError checks an error response's status and exact body.
func (r response) wantError(tb testing.TB, status int, msg string) {
	tb.Helper()
	r.wantStatus(tb, status)
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		tb.Errorf("Content-Type %q, want application/json", ct)
	}
	var got map[string]any
	decodeJSON(tb, r.body, &got)
	want := map[string]any{"status": "error", "message": msg}
	if !jsonEqual(got, want) {
		tb.Errorf("body %s, want %v", r.body, want)
	}
}

func decodeJSON(tb testing.TB, data []byte, v any) {
	tb.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		tb.Fatalf("decode %s: %v", data, err)
	}
}

func jsonEqual(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// errBackend is an internal failure whose text must stay in the logs.
var errBackend = errors.New(secretDetail)

func mustPolicy(tb testing.TB, allowed []string, def string) *site.Policy {
	tb.Helper()
	p, err := site.NewPolicy(allowed, def)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}
