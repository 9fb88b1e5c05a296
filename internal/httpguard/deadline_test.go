package httpguard

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const ioTimeout = 10 * time.Second

// rawRequest sends head (a request without its body) on a fresh connection
// to srv and returns the connection, with a deadline for the test's reads.
func rawRequest(t *testing.T, srv *httptest.Server, head string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(ioTimeout))
	return c
}

// A client that announces a body and never sends it gets its answer (and
// loses its socket) instead of holding the socket: both when the handler
// reads the body and when it answers without reading it.
func TestDeadlinesCutSilentBodies(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, "body timeout", http.StatusRequestTimeout)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("/ignore", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	})
	srv := httptest.NewServer(Deadlines(time.Nanosecond, -1)(mux))
	t.Cleanup(srv.Close)

	for path, want := range map[string]int{"/read": http.StatusRequestTimeout, "/ignore": http.StatusUnauthorized} {
		c := rawRequest(t, srv, "POST "+path+" HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("%s: no answer: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: status %d, want %d", path, resp.StatusCode, want)
		}
	}
}

// A stream route gets no deadline: its handler reads a body that arrives
// after the handler started, which a 1 ns read deadline would refuse.
func TestDeadlinesSkipStreams(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	got := make(chan string, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		b, err := io.ReadAll(r.Body)
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		got <- string(b)
	})
	srv := httptest.NewServer(Deadlines(time.Nanosecond, time.Nanosecond, "/ws/chat")(h))
	t.Cleanup(srv.Close)

	c := rawRequest(t, srv, "POST /ws/chat HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n")
	select {
	case <-started:
	case <-time.After(ioTimeout):
		t.Fatal("handler not called")
	}
	if _, err := io.WriteString(c, "hello"); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-got:
		if b != "hello" {
			t.Errorf("stream handler read %q, want hello", b)
		}
	case <-time.After(ioTimeout):
		t.Fatal("stream handler did not finish")
	}
}

// Zero durations are the defaults; an ordinary request is served.
func TestDeadlinesDefaultsServe(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(Deadlines(0, 0)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, _ = w.Write(b)
	})))
	t.Cleanup(srv.Close)
	resp, err := http.Post(srv.URL, "text/plain", strings.NewReader("ok"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); string(b) != "ok" {
		t.Errorf("body %q", b)
	}
}
