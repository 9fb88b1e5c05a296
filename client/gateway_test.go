package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/site"
	"github.com/notifyd/notifyd/wsgateway"
)

const (
	testSite   = "http://app.example"
	testSecret = "wsclient-test-secret-0123456789abcdef"
)

// gatewayServer is a real wsgateway.Gateway behind httptest.NewServer. since
// records the since parameter of every websocket request, in order.
type gatewayServer struct {
	gw  *wsgateway.Gateway
	srv *httptest.Server

	mu     sync.Mutex
	sinces []string
}

func (s *gatewayServer) url() string {
	return "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/ws/chat"
}

func (s *gatewayServer) sinceList() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.sinces...)
}

func startGateway(t *testing.T, cfg wsgateway.Config) *gatewayServer {
	t.Helper()
	v, err := auth.NewVerifier(auth.Config{Secret: []byte(testSecret)})
	if err != nil {
		t.Fatal(err)
	}
	sites, err := site.NewPolicy([]string{testSite}, "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Auth == nil {
		cfg.Auth = v
	}
	cfg.Sites = sites
	if cfg.ShutdownSpread == 0 {
		cfg.ShutdownSpread = -1
	}
	gw, err := wsgateway.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &gatewayServer{gw: gw}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.sinces = append(s.sinces, r.URL.Query().Get("since"))
		s.mu.Unlock()
		gw.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = gw.Shutdown(ctx)
		s.srv.Close()
	})
	return s
}

func mint(t testing.TB, sub string, issued time.Time, ttl time.Duration) string {
	t.Helper()
	tok, err := auth.Mint([]byte(testSecret), sub, "", nil, issued, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// recorder collects what a client reports through its callbacks.
type recorder struct {
	connects    chan string
	disconnects chan error
	gaps        chan string

	mu   sync.Mutex
	msgs []*message.Message
	raw  []string
}

func newRecorder() *recorder {
	return &recorder{connects: make(chan string, 16), disconnects: make(chan error, 16), gaps: make(chan string, 16)}
}

func (r *recorder) wire(cfg *Config) {
	cfg.OnConnect = func(url string) { r.connects <- url }
	cfg.OnDisconnect = func(_ string, err error) { r.disconnects <- err }
	cfg.OnGap = func(since string) { r.gaps <- since }
	cfg.OnMessage = func(m *message.Message, raw []byte) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.msgs = append(r.msgs, m)
		r.raw = append(r.raw, string(raw))
	}
}

func (r *recorder) titles() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.msgs))
	for i, m := range r.msgs {
		out[i] = m.Title
	}
	return out
}

// runClient runs a client until the test ends and returns it.
func runClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	if cfg.Origin == "" {
		cfg.Origin = testSite
	}
	if cfg.BackoffMin == 0 {
		cfg.BackoffMin, cfg.BackoffMax = time.Millisecond, 20*time.Millisecond
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := recv(t, done); err != nil {
			t.Errorf("Run returned %v after its context ended", err)
		}
	})
	return c
}

var ids message.IDGen

func msg(title, from string, to ...string) *message.Message {
	return &message.Message{
		Host: testSite, Channel: "chat:main", Action: "notify", Category: "test", Status: "info",
		Title: title, Source: &message.Source{ID: from, Title: from},
		Target: &message.Target{Principals: to}, Timestamp: message.FormatTimestamp(time.Now()),
		ID: ids.New(time.Now()),
	}
}

func deliver(gw *wsgateway.Gateway, ms ...*message.Message) {
	for _, m := range ms {
		gw.Deliver(m, m.PushJSON())
	}
}

func TestDeliversMessagesNotControlFrames(t *testing.T) {
	t.Parallel()
	s := startGateway(t, wsgateway.Config{})
	rec := newRecorder()
	cfg := Config{URL: s.url(), PingInterval: 5 * time.Millisecond, Token: func(context.Context) (string, error) {
		return mint(t, "users:bob", time.Now(), time.Hour), nil
	}}
	rec.wire(&cfg)
	c := runClient(t, cfg)
	if got := recv(t, rec.connects); got != s.url() {
		t.Fatalf("OnConnect(%q), want %q", got, s.url())
	}
	// Several PONGs must have been read (and kept from OnMessage) before the
	// messages.
	poll.Until(t, "condition", func() bool { return c.Stats().Pongs >= 3 })
	first, own, other, last := msg("first", "users:alice", "users:bob"), msg("own", "users:bob", "users:bob"),
		msg("other", "users:alice", "users:carol"), msg("last", "users:alice", message.Authenticated)
	deliver(s.gw, first, own, other, last)
	poll.Until(t, "condition", func() bool { return len(rec.titles()) == 2 })
	if got := strings.Join(rec.titles(), ","); got != "first,last" {
		t.Fatalf("OnMessage got %q, want first,last", got)
	}
	if rec.raw[0] != string(first.PushJSON()) {
		t.Fatalf("raw %s, want %s", rec.raw[0], first.PushJSON())
	}
	if c.LastID() != last.ID {
		t.Fatalf("LastID %q, want %q", c.LastID(), last.ID)
	}
	if st := c.Stats(); st.Messages != 2 || st.Connects != 1 || st.Invalid != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestDropsDuplicateIDs(t *testing.T) {
	t.Parallel()
	s := startGateway(t, wsgateway.Config{})
	rec := newRecorder()
	cfg := Config{URL: s.url(), Token: func(context.Context) (string, error) { return mint(t, "users:bob", time.Now(), time.Hour), nil }}
	rec.wire(&cfg)
	c := runClient(t, cfg)
	recv(t, rec.connects)
	a, b := msg("a", "users:x", "users:bob"), msg("b", "users:x", "users:bob")
	deliver(s.gw, a, a, b, a)
	poll.Until(t, "condition", func() bool { return c.Stats().Messages+c.Stats().Duplicates == 4 })
	if got := strings.Join(rec.titles(), ","); got != "a,b" || c.Stats().Duplicates != 2 {
		t.Fatalf("OnMessage got %q with %d duplicates, want a,b and 2", got, c.Stats().Duplicates)
	}
}

func TestRefreshesTokenAfterLogout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		first func(t *testing.T) string
	}{
		{"expired", func(t *testing.T) string { return mint(t, "users:bob", time.Now().Add(-2*time.Hour), time.Hour) }},
		{"garbage", func(*testing.T) string { return "not-a-jwt" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := startGateway(t, wsgateway.Config{})
			rec := newRecorder()
			var mu sync.Mutex
			var refreshes []bool
			cfg := Config{URL: s.url(), Token: func(ctx context.Context) (string, error) {
				mu.Lock()
				defer mu.Unlock()
				refreshes = append(refreshes, Refresh(ctx))
				if len(refreshes) == 1 {
					return tt.first(t), nil
				}
				return mint(t, "users:bob", time.Now(), time.Hour), nil
			}}
			rec.wire(&cfg)
			c := runClient(t, cfg)
			if err := recv(t, rec.disconnects); !errors.Is(err, ErrTokenRefused) {
				t.Fatalf("first connection ended with %v, want ErrTokenRefused", err)
			}
			recv(t, rec.connects)
			mu.Lock()
			defer mu.Unlock()
			if len(refreshes) != 2 || refreshes[0] || !refreshes[1] {
				t.Fatalf("Token calls saw Refresh = %v, want [false true]", refreshes)
			}
			if st := c.Stats(); st.Refused != 1 || st.Connects != 1 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

func TestMovesToFallbackWithSinceOnShutdown(t *testing.T) {
	t.Parallel()
	a, b := startGateway(t, wsgateway.Config{}), startGateway(t, wsgateway.Config{})
	rec := newRecorder()
	cfg := Config{URL: a.url(), Fallbacks: []string{b.url()},
		Token: func(context.Context) (string, error) { return mint(t, "users:bob", time.Now(), time.Hour), nil }}
	rec.wire(&cfg)
	c := runClient(t, cfg)
	if got := recv(t, rec.connects); got != a.url() {
		t.Fatalf("connected to %q, want %q", got, a.url())
	}
	m := msg("before", "users:x", "users:bob")
	deliver(a.gw, m)
	poll.Until(t, "condition", func() bool { return c.LastID() == m.ID })

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.gw.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, rec.connects); got != b.url() {
		t.Fatalf("reconnected to %q, want the fallback %q", got, b.url())
	}
	if got := b.sinceList(); len(got) != 1 || got[0] != m.ID {
		t.Fatalf("fallback saw since %q, want [%s]", got, m.ID)
	}
	if got := a.sinceList(); len(got) != 1 || got[0] != "" {
		t.Fatalf("first dial sent since %q, want none", got)
	}
}

func TestRunEndsWithContext(t *testing.T) {
	t.Parallel()
	s := startGateway(t, wsgateway.Config{})
	c, err := New(Config{URL: s.url(), Origin: testSite,
		Token: func(context.Context) (string, error) { return mint(t, "users:bob", time.Now(), time.Hour), nil }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	poll.Until(t, "condition", func() bool { return s.gw.Count() == 1 })
	if err := c.Run(ctx); !errors.Is(err, ErrRunning) {
		t.Fatalf("second Run: %v, want ErrRunning", err)
	}
	cancel()
	if err := recv(t, done); err != nil {
		t.Fatalf("Run: %v", err)
	}
	poll.Until(t, "condition", func() bool { return s.gw.Count() == 0 })
	if st := s.gw.Stats(); st.Disconnects[wsgateway.DisconnectClient] != 1 {
		t.Fatalf("gateway disconnect reasons %v, want one client close", st.Disconnects)
	}
}
