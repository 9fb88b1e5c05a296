package wsgateway

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/protocol"
)

// sseStream is an open GET /sse/chat.
type sseStream struct {
	t    *testing.T
	resp *http.Response
	r    *bufio.Reader
}

// sseEvent is one event of a stream: its id, data, or a heartbeat comment.
type sseEvent struct {
	id, data string
	comment  bool
	retry    string
}

// openSSE opens a stream on e's gateway with query and header (name, value
// pairs); it returns the response whatever its status.
func openSSE(t *testing.T, e *testEnv, query string, header ...string) *sseStream {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(e.g.ServeSSE))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/sse/chat?"+query, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("GET /sse/chat: %v", err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return &sseStream{t: t, resp: resp, r: bufio.NewReader(resp.Body)}
}

// next reads the next event (or comment), failing the test after ioTimeout.
func (s *sseStream) next() sseEvent {
	s.t.Helper()
	type result struct {
		ev  sseEvent
		err error
	}
	done := make(chan result, 1)
	go func() {
		var ev sseEvent
		for {
			line, err := s.r.ReadString('\n')
			if err != nil {
				done <- result{ev, err}
				return
			}
			line = strings.TrimSuffix(line, "\n")
			switch {
			case line == "":
				if ev != (sseEvent{}) {
					done <- result{ev, nil}
					return
				}
			case strings.HasPrefix(line, ":"):
				ev.comment = true
			case strings.HasPrefix(line, "id: "):
				ev.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "data: "):
				ev.data += strings.TrimPrefix(line, "data: ")
			case strings.HasPrefix(line, "retry: "):
				ev.retry = strings.TrimPrefix(line, "retry: ")
			}
		}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			s.t.Fatalf("sse read: %v", r.err)
		}
		return r.ev
	case <-time.After(ioTimeout):
		s.t.Fatal("sse read timed out")
		return sseEvent{}
	}
}

// data returns the data of the next event that is not a heartbeat.
func (s *sseStream) data() sseEvent {
	s.t.Helper()
	for {
		if ev := s.next(); !ev.comment {
			return ev
		}
	}
}

func sseQuery(host, tok string) string {
	return "host=" + url.QueryEscape(host) + "&token=" + tok
}

// TestSSEDelivers: a stream gets the messages its principals may see, as
// events carrying the push form and the message id, and nothing else.
func TestSSEDelivers(t *testing.T) {
	e := newEnv(t, envOptions{allowed: []string{siteA}})
	before := e.g.Stats().Accepted
	s := openSSE(t, e, sseQuery(siteA, mint(t, "bob", time.Hour)), "Origin", siteA)
	if s.resp.StatusCode != http.StatusOK || !strings.HasPrefix(s.resp.Header.Get("Content-Type"), "text/event-stream") ||
		s.resp.Header.Get("Access-Control-Allow-Origin") != siteA {
		t.Fatalf("response %d %v", s.resp.StatusCode, s.resp.Header)
	}
	if ev := s.next(); ev.retry != "3000" {
		t.Fatalf("first event %+v, want the retry delay", ev)
	}
	poll.Until(t, "stream admitted", func() bool { return e.g.Stats().Accepted > before })
	other := newMessage(siteA, "users:x", "for alice", "alice")
	other.ID = "m-1"
	e.g.Deliver(other, other.PushJSON())
	m := newMessage(siteA, "users:x", "for bob", "bob")
	m.ID = "m-2"
	e.g.Deliver(m, m.PushJSON())
	if ev := s.data(); ev.id != "m-2" || ev.data != string(m.PushJSON()) {
		t.Fatalf("event %+v, want bob's message", ev)
	}
	if got := e.g.Stats().SSEAccepted; got != 1 {
		t.Fatalf("SSEAccepted %d", got)
	}
}

// TestSSERefusals: a bad token is 401 and a disallowed origin 403, before
// any stream.
func TestSSERefusals(t *testing.T) {
	e := newEnv(t, envOptions{allowed: []string{siteA}})
	if s := openSSE(t, e, sseQuery(siteA, "not-a-token")); s.resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad token: %d", s.resp.StatusCode)
	}
	if s := openSSE(t, e, sseQuery(siteA, mint(t, "bob", -time.Minute))); s.resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("expired token: %d", s.resp.StatusCode)
	}
	if s := openSSE(t, e, sseQuery(siteA, mint(t, "bob", time.Hour)), "Origin", "https://evil.example"); s.resp.StatusCode != http.StatusForbidden {
		t.Fatalf("bad origin: %d", s.resp.StatusCode)
	}
}

// TestSSEResumeAndInbox: with the inbox, Last-Event-ID resumes after that
// message, and the badge frame follows, as on a websocket.
func TestSSEResumeAndInbox(t *testing.T) {
	e := newInboxEnv(t, Config{}, history.Config{})
	var ids []string
	for i := range 3 {
		m := e.msg("users:x", "n"+string(rune('0'+i)), "test", "bob")
		e.stored(t, m)
		ids = append(ids, m.ID)
	}
	s := openSSE(t, e.testEnv, sseQuery(siteA, mint(t, "bob", time.Hour)), "Last-Event-ID", ids[0])
	s.next() // retry
	for _, want := range ids[1:] {
		if ev := s.data(); ev.id != want {
			t.Fatalf("replayed %+v, want %s", ev, want)
		}
	}
	if ev := s.data(); !strings.Contains(ev.data, `"action":"inbox"`) || ev.id != "" {
		t.Fatalf("after the replay %+v, want the inbox frame", ev)
	}
}

// TestSSEHeartbeatAndClose: a stream gets a comment every PingInterval,
// and the close event with the close code when the gateway shuts down.
func TestSSEHeartbeatAndClose(t *testing.T) {
	e := newEnv(t, envOptions{allowed: []string{siteA}, cfg: Config{PingInterval: 20 * time.Millisecond}})
	s := openSSE(t, e, sseQuery(siteA, mint(t, "bob", time.Hour)))
	s.next() // retry
	if ev := s.next(); !ev.comment {
		t.Fatalf("got %+v, want a heartbeat", ev)
	}
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	go func() { _ = e.g.Shutdown(ctx) }()
	ev := s.data()
	if !strings.Contains(ev.data, `"action":"close"`) || !strings.Contains(ev.data, fmt.Sprintf(`"code":%d`, protocol.CloseGoingAway)) {
		t.Fatalf("got %+v, want the close event", ev)
	}
}
