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

	"github.com/coder/websocket"
	"github.com/notifyd/notifyd/protocol"
)

// scripted is a websocket server (the real library) that plays the part of
// a gateway doing something the real one cannot be made to do on demand:
// each request is handled by the step of its index (the last step repeats).
type scripted struct {
	srv *httptest.Server

	mu    sync.Mutex
	dials []*http.Request
}

func startScripted(t *testing.T, steps ...func(w http.ResponseWriter, r *http.Request)) *scripted {
	t.Helper()
	s := &scripted{}
	var wg sync.WaitGroup
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		n := len(s.dials)
		s.dials = append(s.dials, r)
		s.mu.Unlock()
		wg.Add(1)
		defer wg.Done()
		steps[min(n, len(steps)-1)](w, r)
	}))
	t.Cleanup(func() {
		s.srv.CloseClientConnections()
		s.srv.Close()
		wg.Wait()
	})
	return s
}

func (s *scripted) url() string { return "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/ws/chat" }

func (s *scripted) requests() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.dials...)
}

func accept(w http.ResponseWriter, r *http.Request) *websocket.Conn {
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{protocol.SubProtocol}, OriginPatterns: []string{"app.example"}})
	if err != nil {
		return nil
	}
	return ws
}

// answer accepts, answers PINGs with PONG, sends frames after the first
// PING, then closes with code (0: keeps serving until the client leaves).
func answer(code websocket.StatusCode, frames ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		ws := accept(w, r)
		if ws == nil {
			return
		}
		defer ws.CloseNow()
		ctx := context.Background()
		for first := true; ; first = false {
			_, data, err := ws.Read(ctx)
			if err != nil {
				return
			}
			if string(data) != protocol.Ping {
				continue
			}
			if err := ws.Write(ctx, websocket.MessageText, []byte(protocol.Pong)); err != nil {
				return
			}
			if !first {
				continue
			}
			for _, f := range frames {
				if err := ws.Write(ctx, websocket.MessageText, []byte(f)); err != nil {
					return
				}
			}
			if code != 0 {
				_ = ws.Close(code, "scripted")
				return
			}
		}
	}
}

// mute accepts and reads, never answering.
func mute(w http.ResponseWriter, r *http.Request) {
	ws := accept(w, r)
	if ws == nil {
		return
	}
	defer ws.CloseNow()
	for {
		if _, _, err := ws.Read(context.Background()); err != nil {
			return
		}
	}
}

func status(code int) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "scripted", code) }
}

const scriptedMsg = `{"host":"http://app.example","action":"notify","title":"t","id":"01JHWX2X3B0000000000000001"}`

func TestReactionsToCloseCodesAndStatuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// first is the home server's first step; later dials get a
		// well-behaved server.
		first     func(http.ResponseWriter, *http.Request)
		cfg       Config
		wantErr   error // of the first connection, when it got one
		wantCode  websocket.StatusCode
		wantMoved bool   // the second dial went to the fallback
		wantSince string // of the second dial
	}{
		{name: "1012 moves to the fallback", first: answer(protocol.CloseServiceRestart), wantCode: protocol.CloseServiceRestart, wantMoved: true},
		{name: "1001 moves to the fallback", first: answer(websocket.StatusGoingAway), wantCode: websocket.StatusGoingAway, wantMoved: true},
		{name: "4000 reconnects with since", first: answer(protocol.CloseSlowConsumer, scriptedMsg), wantCode: protocol.CloseSlowConsumer,
			wantSince: "01JHWX2X3B0000000000000001"},
		{name: "unanswered PING drops the connection", first: mute, cfg: Config{PongTimeout: 20 * time.Millisecond},
			wantErr: ErrPongTimeout},
		{name: "503 moves to the fallback", first: status(http.StatusServiceUnavailable), wantMoved: true},
		{name: "429 retries the same gateway", first: status(http.StatusTooManyRequests)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			home := startScripted(t, tt.first, answer(0))
			other := startScripted(t, answer(0))
			rec := newRecorder()
			cfg := tt.cfg
			cfg.URL, cfg.Fallbacks, cfg.Token = home.url(), []string{other.url()}, bobToken(t)
			rec.wire(&cfg)
			runClient(t, cfg)
			if tt.wantErr != nil || tt.wantCode != 0 {
				if tt.wantCode != 0 { // answer establishes; mute never does
					recv(t, rec.connects)
				}
				err := recv(t, rec.disconnects)
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Fatalf("first connection ended with %v, want %v", err, tt.wantErr)
				}
				if tt.wantCode != 0 && websocket.CloseStatus(err) != tt.wantCode {
					t.Fatalf("first connection ended with %v, want code %d", err, tt.wantCode)
				}
			}
			wantURL := home.url()
			if tt.wantMoved {
				wantURL = other.url()
			}
			if got := recv(t, rec.connects); got != wantURL {
				t.Fatalf("then connected to %q, want %q", got, wantURL)
			}
			var second *http.Request
			if tt.wantMoved {
				second = other.requests()[0]
			} else {
				second = home.requests()[1]
			}
			if got := second.URL.Query().Get("since"); got != tt.wantSince {
				t.Fatalf("second dial since %q, want %q", got, tt.wantSince)
			}
			first := home.requests()[0]
			if got := first.Header.Get("Authorization"); !strings.HasPrefix(got, "Bearer ey") {
				t.Fatalf("Authorization %q, want Bearer <jwt>", got)
			}
			if got := first.Header.Get("Sec-WebSocket-Protocol"); got != "" {
				t.Fatalf("subprotocols %q, want none (PyAMS's browser client only)", got)
			}
			if got := first.Header.Get("Origin"); got != testSite {
				t.Fatalf("Origin %q", got)
			}
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	tok := func(context.Context) (string, error) { return "", nil }
	const u = "ws://127.0.0.1/ws/chat"
	tests := []struct {
		name  string
		cfg   Config
		field string // named in the error
	}{
		{"no token func", Config{URL: u}, "Token"},
		{"no URL", Config{Token: tok}, "URL"},
		{"not a websocket URL", Config{URL: "ftp://127.0.0.1/x", Token: tok}, "URL"},
		{"bad fallback", Config{URL: u, Fallbacks: []string{"::"}, Token: tok}, "URL"},
		{"negative backoff min", Config{URL: u, Token: tok, BackoffMin: -1}, "BackoffMin"},
		{"negative backoff max", Config{URL: u, Token: tok, BackoffMax: -1}, "BackoffMax"},
		{"negative dial timeout", Config{URL: u, Token: tok, DialTimeout: -1}, "DialTimeout"},
		{"negative write timeout", Config{URL: u, Token: tok, WriteTimeout: -1}, "WriteTimeout"},
		{"negative read limit", Config{URL: u, Token: tok, ReadLimit: -1}, "ReadLimit"},
		{"client with timeout", Config{URL: u, Token: tok, HTTPClient: &http.Client{Timeout: time.Second}}, "HTTPClient.Timeout"},
		{"device with a space", Config{URL: u, Token: tok, Device: "my phone"}, "Device"},
		{"device too long", Config{URL: u, Token: tok, Device: strings.Repeat("d", 65)}, "Device"},
		{"websocket API base", Config{URL: u, Token: tok, API: "ws://127.0.0.1"}, "API"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tt.cfg)
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("New: %v, want ErrInvalidConfig", err)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("New: %v, want the error to name %s", err, tt.field)
			}
		})
	}
}

func TestTokenErrorIsRetried(t *testing.T) {
	t.Parallel()
	s := startScripted(t, answer(0))
	var mu sync.Mutex
	calls := 0
	rec := newRecorder()
	cfg := Config{URL: s.url(), Token: func(ctx context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls < 3 {
			return "", errors.New("identity provider down")
		}
		return mint(t, "users:bob", time.Now(), time.Hour), nil
	}}
	rec.wire(&cfg)
	c := runClient(t, cfg)
	recv(t, rec.connects)
	if st := c.Stats(); st.Dials != 1 {
		t.Fatalf("dials %d, want 1 (no dial without a token)", st.Dials)
	}
}
