package httpguard

import (
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/poll"
)

// serve runs an HTTP server on a Listener capped at max and returns it.
func serve(t *testing.T, max int, key func(net.Addr) string) *Listener {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := NewListener(raw, max, key)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return l
}

func dial(t *testing.T, l *Listener) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedByPeer reports whether the server closed c (a read ends in EOF or a
// reset rather than the test's deadline).
func closedByPeer(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(ioTimeout))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

func get(t *testing.T, l *Listener) string {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: ioTimeout}).Get("http://" + l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestListenerCapsAnAddress(t *testing.T) {
	t.Parallel()
	l := serve(t, 2, nil)
	idle1, _ := dial(t, l), dial(t, l)
	poll.Until(t, "two connections counted", func() bool { return l.Open() == 2 })

	over := dial(t, l)
	if !closedByPeer(over) {
		t.Fatal("third connection of one address was not closed")
	}
	if l.Refused() != 1 {
		t.Errorf("Refused = %d, want 1", l.Refused())
	}

	idle1.Close()
	poll.Until(t, "a slot released", func() bool { return l.Open() == 1 })
	if got := get(t, l); got != "ok" {
		t.Errorf("request after a release: %q", got)
	}
}

func TestListenerKeysAreIndependent(t *testing.T) {
	t.Parallel()
	// Every connection gets a key of its own: the cap of 1 never applies.
	key := func(a net.Addr) string { return a.String() }
	l := serve(t, 1, key)
	dial(t, l)
	poll.Until(t, "one connection counted", func() bool { return l.Open() == 1 })
	if got := get(t, l); got != "ok" {
		t.Errorf("request from another key: %q", got)
	}
}

func TestListenerNegativeDisables(t *testing.T) {
	t.Parallel()
	l := serve(t, -1, nil)
	for range 3 {
		dial(t, l)
	}
	if got := get(t, l); got != "ok" {
		t.Errorf("request with the cap disabled: %q", got)
	}
	if l.Refused() != 0 || l.Open() != 0 {
		t.Errorf("disabled listener counted: refused %d open %d", l.Refused(), l.Open())
	}
}
