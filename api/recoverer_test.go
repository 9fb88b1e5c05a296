package api

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

func TestRecovererAnswers500(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config) {
		c.WebSocket = http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom secret-detail") })
	})
	r := f.do(t, http.MethodGet, PathWebSocket, "")
	r.wantError(t, http.StatusInternalServerError, "internal error")
	if strings.Contains(string(r.body), "secret-detail") {
		t.Fatalf("panic text leaked: %s", r.body)
	}
	logs := f.logs.String()
	if !strings.Contains(logs, "boom secret-detail") || !strings.Contains(logs, "request_id=") {
		t.Fatalf("panic not logged with request id: %s", logs)
	}
}

// rawGet sends an upgrade request over a raw connection and returns
// everything the server wrote before closing it.
func rawGet(t *testing.T, f *fixture, path string) string {
	t.Helper()
	conn, err := net.Dial("tcp", f.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close, Upgrade\r\nUpgrade: websocket\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(bufio.NewReader(conn))
	if err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
		t.Fatal(err)
	}
	return string(out)
}

func TestRecovererLeavesUpgradesAlone(t *testing.T) {
	t.Parallel()
	t.Run("not hijacked", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, func(c *Config) {
			c.WebSocket = http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("upgrade boom") })
		})
		if out := rawGet(t, f, PathWebSocket); out != "" {
			t.Fatalf("server answered a panicked upgrade: %q", out)
		}
		if !strings.Contains(f.logs.String(), "upgrade boom") {
			t.Fatalf("panic not logged: %s", f.logs.String())
		}
	})
	t.Run("hijacked", func(t *testing.T) {
		t.Parallel()
		const hello = "HTTP/1.1 101 Switching Protocols\r\n\r\nhello"
		f := newFixture(t, func(c *Config) {
			c.WebSocket = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				conn, _, err := http.NewResponseController(w).Hijack()
				if err != nil {
					panic(err)
				}
				defer conn.Close()
				_, _ = io.WriteString(conn, hello)
				panic("after hijack")
			})
		})
		if out := rawGet(t, f, PathWebSocket); out != hello {
			t.Fatalf("got %q, want only what the handler wrote", out)
		}
	})
	t.Run("abort handler", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, func(c *Config) {
			c.WebSocket = http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })
		})
		req, err := http.NewRequest(http.MethodGet, f.srv.URL+PathWebSocket, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res, err := f.srv.Client().Do(req); err == nil {
			res.Body.Close()
			t.Fatalf("aborted request answered %d", res.StatusCode)
		}
		if strings.Contains(f.logs.String(), "panicked") {
			t.Fatalf("ErrAbortHandler logged as a panic: %s", f.logs.String())
		}
	})
}
