package wsgateway

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/protocol"
	"github.com/notifyd/notifyd/site"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testSecret signs every test token (auth wants at least 32 bytes).
var testSecret = []byte("wsgateway-test-secret-0123456789abcdef")

// ioTimeout bounds every blocking test step so that a bug fails the test
// instead of hanging it. It is a safety net, not an assertion.
const ioTimeout = 15 * time.Second

// siteA and siteB are the sites of most tests.
const (
	siteA = "https://site-a.example"
	siteB = "https://site-b.example"
)

// testEnv is a Gateway served by a real HTTP server.
type testEnv struct {
	g   *Gateway
	srv *httptest.Server
}

// envOptions tweak newEnv.
type envOptions struct {
	allowed     []string // allowed origins of the site policy
	defaultHost string   // default site of the policy
	cfg         Config   // Sites is filled in, Auth too unless set; ShutdownSpread 0 means none (fast cleanup)
}

// newEnv starts a Gateway behind httptest.NewServer. Cleanup shuts the
// gateway down, then the server.
func newEnv(tb testing.TB, o envOptions) *testEnv {
	tb.Helper()
	verifier, err := auth.NewVerifier(auth.Config{Secret: testSecret})
	if err != nil {
		tb.Fatalf("NewVerifier: %v", err)
	}
	policy, err := site.NewPolicy(o.allowed, o.defaultHost)
	if err != nil {
		tb.Fatalf("NewPolicy: %v", err)
	}
	cfg := o.cfg
	if cfg.Auth == nil {
		cfg.Auth = verifier
	}
	cfg.Sites = policy
	if cfg.ShutdownSpread == 0 {
		cfg.ShutdownSpread = -1
	}
	g, err := New(cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(g)
	tb.Cleanup(srv.Close)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
		defer cancel()
		if err := g.Shutdown(ctx); err != nil {
			tb.Errorf("Shutdown: %v", err)
		}
	})
	return &testEnv{g: g, srv: srv}
}

// wsURL is the websocket URL of the gateway with the given query string.
func (e *testEnv) wsURL(query string) string {
	u := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/ws/chat"
	if query != "" {
		u += "?" + query
	}
	return u
}

// mint returns a token for sub carrying principals, valid for ttl.
func mint(tb testing.TB, sub string, ttl time.Duration, principals ...string) string {
	tb.Helper()
	tok, err := auth.Mint(testSecret, sub, "", principals, time.Now(), ttl)
	if err != nil {
		tb.Fatalf("Mint: %v", err)
	}
	return tok
}

// dialOptions describe one client handshake.
type dialOptions struct {
	query        string      // URL query, e.g. "host=https://x"
	origin       string      // Origin header
	subprotocols []string    // offered subprotocols
	header       http.Header // extra headers
	onPing       func()      // called for every server ping
}

// dial performs a real websocket handshake against e. It returns the
// response for failed handshakes.
func (e *testEnv) dial(tb testing.TB, o dialOptions) (*websocket.Conn, *http.Response, error) {
	tb.Helper()
	h := http.Header{}
	for k, v := range o.header {
		h[k] = v
	}
	if o.origin != "" {
		h.Set("Origin", o.origin)
	}
	opts := &websocket.DialOptions{
		HTTPClient:   e.srv.Client(),
		HTTPHeader:   h,
		Subprotocols: o.subprotocols,
	}
	if o.onPing != nil {
		opts.OnPingReceived = func(context.Context, []byte) bool { o.onPing(); return true }
	}
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, e.wsURL(o.query), opts)
	if err == nil {
		tb.Cleanup(func() { _ = c.CloseNow() })
	}
	return c, resp, err
}

// connect dials as sub (with principals) on host, using the PyAMS
// subprotocol, and waits until the gateway has registered the connection.
func (e *testEnv) connect(tb testing.TB, host, sub string, principals ...string) *websocket.Conn {
	tb.Helper()
	return e.connectWith(tb, host, "", sub, principals...)
}

// connectWith dials as sub on host with an extra query (e.g. "since=x") and
// waits until the gateway has registered the connection.
func (e *testEnv) connectWith(tb testing.TB, host, query, sub string, principals ...string) *websocket.Conn {
	tb.Helper()
	before := e.g.Stats().Accepted
	q := "host=" + host
	if query != "" {
		q += "&" + query
	}
	c, _, err := e.dial(tb, dialOptions{
		query:        q,
		subprotocols: []string{protocol.SubProtocol, mint(tb, sub, time.Hour, principals...)},
	})
	if err != nil {
		tb.Fatalf("dial %s: %v", sub, err)
	}
	poll.Until(tb, "condition", func() bool { return e.g.Stats().Accepted > before })
	return c
}

// read returns the next message of c.
func read(tb testing.TB, c *websocket.Conn) (websocket.MessageType, []byte) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	typ, data, err := c.Read(ctx)
	if err != nil {
		tb.Fatalf("read: %v", err)
	}
	return typ, data
}

// readText returns the next message of c, which must be text.
func readText(tb testing.TB, c *websocket.Conn) string {
	tb.Helper()
	typ, data := read(tb, c)
	if typ != websocket.MessageText {
		tb.Fatalf("read %v message %q, want text", typ, data)
	}
	return string(data)
}

// expectClose reads the next frame of c, which must be a close, and checks the close code and reason.
// An empty reason is not checked.
func expectClose(tb testing.TB, c *websocket.Conn, code websocket.StatusCode, reason string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	_, data, err := c.Read(ctx)
	if err == nil {
		tb.Fatalf("read %q, want close %d", data, code)
	}
	var ce websocket.CloseError
	if !errors.As(err, &ce) {
		tb.Fatalf("read error %v, want close %d", err, code)
	}
	if ce.Code != code || reason != "" && ce.Reason != reason {
		tb.Fatalf("closed with %d %q, want %d %q", ce.Code, ce.Reason, code, reason)
	}
}

// writeText sends a text message on c.
func writeText(tb testing.TB, c *websocket.Conn, s string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		tb.Fatalf("write: %v", err)
	}
}

// newMessage builds a message on host from source to targets; title
// identifies it in assertions.
func newMessage(host, source, title string, targets ...string) *message.Message {
	m := &message.Message{
		Host:      host,
		Channel:   "chat:main",
		Action:    "notify",
		Category:  "test",
		Status:    "info",
		Title:     title,
		Body:      "body of " + title,
		Timestamp: "2025-01-18T17:20:54.123456+00:00",
	}
	if source != "" {
		m.Source = &message.Source{ID: source, Title: source}
	}
	if targets != nil {
		m.Target = &message.Target{Principals: targets}
	}
	return m
}

// nopAuth refuses every token; it serves tests that never authenticate.
type nopAuth struct{}

func (nopAuth) Verify(context.Context, string) (auth.Identity, error) {
	return auth.Identity{}, auth.ErrInvalidToken
}

// mustPolicy is a policy allowing any origin.
func mustPolicy(tb testing.TB) *site.Policy {
	tb.Helper()
	p, err := site.NewPolicy([]string{"*"}, "")
	if err != nil {
		tb.Fatal(err)
	}
	return p
}
