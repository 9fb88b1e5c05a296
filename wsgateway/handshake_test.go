package wsgateway

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/protocol"
)

func TestTokenSources(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		dial        func(token string) dialOptions
		wantSubprot string
	}{
		{
			name: "subprotocol",
			dial: func(tok string) dialOptions {
				return dialOptions{query: "host=" + siteA, subprotocols: []string{protocol.SubProtocol, tok}}
			},
			wantSubprot: protocol.SubProtocol,
		},
		{
			name: "bearer header",
			dial: func(tok string) dialOptions {
				return dialOptions{query: "host=" + siteA, header: http.Header{"Authorization": {"Bearer " + tok}}}
			},
		},
		{
			name: "query parameter",
			dial: func(tok string) dialOptions {
				return dialOptions{query: "host=" + siteA + "&token=" + tok}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{})
			c, _, err := e.dial(t, tt.dial(mint(t, "users:alice", time.Hour)))
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			if got := c.Subprotocol(); got != tt.wantSubprot {
				t.Errorf("subprotocol = %q, want %q", got, tt.wantSubprot)
			}
			poll.Until(t, "condition", func() bool { return e.g.Count() == 1 })
			m := newMessage(siteA, "users:bob", "hello", "users:alice")
			e.g.Deliver(m, m.PushJSON())
			if got, want := readText(t, c), string(m.PushJSON()); got != want {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
}

func TestBadTokenLogsOut(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		token      string
		wantReason string
	}{
		{"missing", "", protocol.ReasonUnauthorized},
		{"garbage", "not-a-jwt", protocol.ReasonUnauthorized},
		{"wrong secret", func() string {
			tok, err := auth.Mint([]byte("another-secret-another-secret-0123456789"), "users:alice", "", nil, time.Now(), time.Hour)
			if err != nil {
				t.Fatalf("Mint: %v", err)
			}
			return tok
		}(), protocol.ReasonUnauthorized},
		{"expired", func() string {
			tok, err := auth.Mint(testSecret, "users:alice", "", nil, time.Now().Add(-2*time.Hour), time.Hour)
			if err != nil {
				t.Fatalf("Mint: %v", err)
			}
			return tok
		}(), protocol.ReasonExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{})
			o := dialOptions{query: "host=" + siteA}
			if tt.token != "" {
				o.subprotocols = []string{protocol.SubProtocol, tt.token}
			}
			c, _, err := e.dial(t, o)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			if got := readText(t, c); got != `{"action":"logout","status":"FORBIDDEN"}` {
				t.Errorf("first frame = %s, want the logout frame", got)
			}
			expectClose(t, c, protocol.CloseUnauthorized, tt.wantReason)
			poll.Until(t, "condition", func() bool { return e.g.Stats().Rejected[RejectToken] == 1 })
			poll.Until(t, "the refusal over", func() bool { return e.g.Stats().Refusing == 0 })
			if s := e.g.Stats(); s.Accepted != 0 || s.Connections != 0 || s.RefusalsUnanswered != 0 {
				t.Errorf("accepted %d, connections %d, unanswered %d; want 0, 0, 0 (the client answered the close)",
					s.Accepted, s.Connections, s.RefusalsUnanswered)
			}
		})
	}
}

// TestTokenExpiresWhileConnected: a connection is closed at its token's
// expiry (logout frame, 4001) unless it is a PyAMS subprotocol connection
// under ExpiryMute (mute_test.go).
func TestTokenExpiresWhileConnected(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mode   ExpiryMode
		source string // auth.Source*
	}{
		{"bearer header, default mode", "", auth.SourceBearer},
		{"query token, default mode", "", auth.SourceQuery},
		{"bearer header, mute mode", ExpiryMute, auth.SourceBearer},
		{"subprotocol, close mode", ExpiryClose, auth.SourceSubprotocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{cfg: Config{ExpiryMode: tt.mode}})
			c := e.dialExpiring(t, tt.source, "users:alice")
			// Nothing is sent until the token expires; then the logout frame and 4001.
			if got := readText(t, c); got != string(protocol.LogoutFrame) {
				t.Errorf("frame = %s, want the logout frame", got)
			}
			expectClose(t, c, protocol.CloseUnauthorized, protocol.ReasonExpired)
			poll.Until(t, "condition", func() bool { return e.g.Count() == 0 })
			if s := e.g.Stats(); s.Disconnects[DisconnectExpired] != 1 || s.Mutes != 0 {
				t.Errorf("expired disconnects = %d, mutes %d; want 1, 0", s.Disconnects[DisconnectExpired], s.Mutes)
			}
		})
	}
}

// dialExpiring connects sub on site A with a token that expires in about
// two seconds, sent as source says (auth.Source*), and waits until the
// gateway has registered the connection.
func (e *testEnv) dialExpiring(tb testing.TB, source, sub string, principals ...string) *websocket.Conn {
	tb.Helper()
	tok := mint(tb, sub, 2*time.Second, principals...)
	o := dialOptions{query: "host=" + siteA}
	switch source {
	case auth.SourceSubprotocol:
		o.subprotocols = []string{protocol.SubProtocol, tok}
	case auth.SourceBearer:
		o.header = http.Header{"Authorization": {"Bearer " + tok}}
	case auth.SourceQuery:
		o.query += "&token=" + tok
	default:
		tb.Fatalf("unknown token source %q", source)
	}
	before := e.g.Stats().Accepted
	c, _, err := e.dial(tb, o)
	if err != nil {
		tb.Fatalf("dial: %v", err)
	}
	poll.Until(tb, "the connection registered", func() bool { return e.g.Stats().Accepted > before })
	return c
}

// longestName is a 253-byte DNS name, the longest there is, and
// longestSite the longest origin: https://, that name and a 5-digit port.
var (
	longestName = strings.Repeat(strings.Repeat("a", 63)+".", 3) + strings.Repeat("b", 61)
	longestSite = "https://" + longestName + ":65535"
)

func TestOriginAndSite(t *testing.T) {
	t.Parallel()
	const sameOrigin = "<server>" // replaced by the test server's URL
	tests := []struct {
		name        string
		allowed     []string
		defaultHost string
		origin      string
		query       string
		wantStatus  int    // 0: upgrade succeeds
		wantBody    string // substring of the refusal body
		wantSite    string // site the connection is indexed under
	}{
		{name: "allowed origin", allowed: []string{"https://app.example.com"}, origin: "https://app.example.com", wantSite: "https://app.example.com"},
		{name: "allowed origin, other case", allowed: []string{"https://app.example.com"}, origin: "https://APP.example.com", wantSite: "https://app.example.com"},
		{name: "origin not in list", allowed: []string{"https://app.example.com"}, origin: "https://evil.example.com", wantStatus: http.StatusForbidden},
		{name: "no list, foreign origin", origin: "https://evil.example.com", wantStatus: http.StatusForbidden},
		{name: "any origin", allowed: []string{"*"}, origin: "https://any.example.org", wantSite: "https://any.example.org"},
		{name: "same origin", origin: sameOrigin, wantSite: sameOrigin},
		{name: "origin beats host query", allowed: []string{"*"}, origin: "https://app.example.com", query: "host=" + siteB, wantSite: "https://app.example.com"},
		{name: "no origin, host query", query: "host=" + siteB, wantSite: siteB},
		{name: "no origin, default site", defaultHost: siteA, wantSite: siteA},
		{name: "no origin, no site", wantStatus: http.StatusBadRequest, wantBody: "no site: send Origin or ?host="},
		{name: "no origin, invalid host", query: "host=ftp://x", wantStatus: http.StatusBadRequest, wantBody: "no site"},
		{name: "longest site", query: "host=" + longestSite, wantSite: longestSite},
		{name: "host longer than an origin can be", query: "host=" + longestSite + "0", wantStatus: http.StatusBadRequest, wantBody: "site too long"},
		{name: "origin longer than an origin can be", allowed: []string{"*"}, origin: "https://a" + longestName + ":65535", wantStatus: http.StatusBadRequest, wantBody: "site too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{allowed: tt.allowed, defaultHost: tt.defaultHost})
			origin, wantSite := tt.origin, tt.wantSite
			if origin == sameOrigin {
				origin = e.srv.URL
			}
			if wantSite == sameOrigin {
				wantSite = e.srv.URL
			}
			c, resp, err := e.dial(t, dialOptions{
				origin:       origin,
				query:        tt.query,
				subprotocols: []string{protocol.SubProtocol, mint(t, "users:alice", time.Hour)},
			})
			if tt.wantStatus != 0 {
				if err == nil {
					t.Fatal("upgrade succeeded, want refusal")
				}
				if resp == nil || resp.StatusCode != tt.wantStatus {
					t.Fatalf("response %v, want status %d", resp, tt.wantStatus)
				}
				body, _ := io.ReadAll(resp.Body)
				if !strings.Contains(string(body), tt.wantBody) {
					t.Errorf("body %q does not contain %q", body, tt.wantBody)
				}
				if s := e.g.Stats(); s.Accepted != 0 {
					t.Errorf("accepted = %d, want 0", s.Accepted)
				}
				return
			}
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			poll.Until(t, "condition", func() bool { return e.g.Count() == 1 })
			// The connection receives a message for its site only.
			other := newMessage(wantSite+".other", "users:bob", "other site", "users:alice")
			e.g.Deliver(other, other.PushJSON())
			m := newMessage(strings.ToUpper(wantSite), "users:bob", "its site", "users:alice")
			e.g.Deliver(m, m.PushJSON())
			if got, want := readText(t, c), string(m.PushJSON()); got != want {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
}

func TestRejectCounters(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{allowed: []string{"https://app.example.com"}})
	if _, _, err := e.dial(t, dialOptions{origin: "https://evil.example.com"}); err == nil {
		t.Fatal("foreign origin accepted")
	}
	if _, _, err := e.dial(t, dialOptions{}); err == nil {
		t.Fatal("request without site accepted")
	}
	// A plain GET is not a websocket upgrade.
	resp, err := e.srv.Client().Get(e.srv.URL + "/ws/chat?host=" + siteA)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusSwitchingProtocols || resp.StatusCode < 400 {
		t.Errorf("plain GET status = %d, want an error", resp.StatusCode)
	}
	s := e.g.Stats()
	want := map[RejectReason]uint64{RejectOrigin: 1, RejectNoSite: 1, RejectHandshake: 1}
	for r, n := range want {
		if s.Rejected[r] != n {
			t.Errorf("rejected[%s] = %d, want %d", r, s.Rejected[r], n)
		}
	}
	if len(s.Rejected) != len(rejectReasons) || len(s.Disconnects) != len(disconnectReasons) {
		t.Errorf("stats maps miss reasons: %v %v", s.Rejected, s.Disconnects)
	}
}

func TestShutdownRefusesUpgrades(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	if err := e.g.Shutdown(t.Context()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	_, resp, err := e.dial(t, dialOptions{
		query:        "host=" + siteA,
		subprotocols: []string{protocol.SubProtocol, mint(t, "users:alice", time.Hour)},
	})
	if err == nil {
		t.Fatal("upgrade succeeded after Shutdown")
	}
	if resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("response %v, want 503", resp)
	}
	if got := e.g.Stats().Rejected[RejectShutdown]; got != 1 {
		t.Errorf("rejected[shutdown] = %d, want 1", got)
	}
}

// TestCloseCodes pins the wire values clients depend on.
func TestCloseCodes(t *testing.T) {
	t.Parallel()
	for code, want := range map[websocket.StatusCode]int{
		protocol.CloseGoingAway: 1001, protocol.CloseUnsupportedData: 1003, protocol.CloseTooBig: 1009,
		protocol.CloseTryAgainLater: 1013, protocol.CloseSlowConsumer: 4000, protocol.CloseUnauthorized: 4001, protocol.CloseRevoked: 4003,
	} {
		if int(code) != want {
			t.Errorf("code %d, want %d", code, want)
		}
	}
}

// recordHandler keeps the attributes of every log record.
type recordHandler struct {
	mu    sync.Mutex
	attrs []slog.Attr
}

func (h *recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	r.Attrs(func(a slog.Attr) bool { h.attrs = append(h.attrs, a); return true })
	return nil
}
func (h *recordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordHandler) WithGroup(string) slog.Handler      { return h }

// TestClientValuesClippedInLogs: a refused Origin of any size is logged in
// at most maxLoggedBytes.
func TestClientValuesClippedInLogs(t *testing.T) {
	t.Parallel()
	logs := &recordHandler{}
	e := newEnv(t, envOptions{allowed: []string{siteA}, cfg: Config{Logger: slog.New(logs)}})
	_, resp, err := e.dial(t, dialOptions{origin: "https://" + strings.Repeat("x", 64<<10) + ".example"})
	wantRefused(t, resp, err, http.StatusForbidden)
	logs.mu.Lock()
	defer logs.mu.Unlock()
	if len(logs.attrs) == 0 {
		t.Fatal("nothing logged")
	}
	for _, a := range logs.attrs {
		if v := a.Value.String(); len(v) > maxLoggedBytes {
			t.Errorf("%s logged in %d bytes, want at most %d", a.Key, len(v), maxLoggedBytes)
		}
	}
}
