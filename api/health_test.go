package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestHealthEndpoints(t *testing.T) {
	t.Parallel()
	notReady := func(context.Context) error { return fmt.Errorf("pubsub: not subscribed: %w", errBackend) }
	ready := func(context.Context) error { return nil }
	cases := []struct {
		name   string
		opts   func(*Config)
		method string
		path   string
		status int
		body   string
	}{
		{"healthz", nil, http.MethodGet, PathHealthz, 200, `{"status":"OK"}`},
		{"readyz default", nil, http.MethodGet, PathReadyz, 200, `{"status":"ready"}`},
		{"readyz ready", func(c *Config) { c.Ready = ready }, http.MethodGet, PathReadyz, 200, `{"status":"ready"}`},
		{"readyz with warnings", func(c *Config) { c.Warnings = []string{"multi-site"} }, http.MethodGet, PathReadyz, 200, `{"status":"ready","warnings":["multi-site"]}`},
		{"readyz not ready", func(c *Config) { c.Ready = notReady }, http.MethodGet, PathReadyz, 503, `{"status":"error","message":"not ready"}`},
		{"monitor default", nil, http.MethodGet, PathMonitor, 200, `{"status":"OK","sessions_count":0,"server":"notifyd/dev"}`},
		{"monitor", func(c *Config) { c.Sessions = func() int { return 7 }; c.Version = "1.2.3" },
			http.MethodGet, PathMonitor, 200, `{"status":"OK","sessions_count":7,"server":"notifyd/1.2.3"}`},
		{"unknown path", nil, http.MethodGet, "/nope", 404, `{"status":"error","message":"not found"}`},
		{"wrong method", nil, http.MethodPost, PathHealthz, 405, `{"status":"error","message":"method not allowed"}`},
		{"websocket not mounted", nil, http.MethodGet, PathWebSocket, 404, `{"status":"error","message":"not found"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var opts []func(*Config)
			if c.opts != nil {
				opts = append(opts, c.opts)
			}
			f := newFixture(t, opts...)
			r := f.do(t, c.method, c.path, "").wantStatus(t, c.status)
			if got := strings.TrimSpace(string(r.body)); got != c.body {
				t.Fatalf("body %s, want %s", got, c.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("Content-Type %q", ct)
			}
		})
	}
}

func TestChatPing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			r := f.do(t, method, PathPing, "").wantStatus(t, http.StatusOK)
			if string(r.body) != "PONG" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
				t.Fatalf("body %q content type %q", r.body, r.header.Get("Content-Type"))
			}
		})
	}
}

func TestWebSocketMounted(t *testing.T) {
	t.Parallel()
	ws := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	})
	f := newFixture(t, func(c *Config) { c.WebSocket = ws })
	f.do(t, http.MethodGet, PathWebSocket, "").wantStatus(t, http.StatusTeapot)
	f.do(t, http.MethodPost, PathWebSocket, "").wantStatus(t, http.StatusMethodNotAllowed)
}
