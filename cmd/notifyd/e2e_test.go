package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/internal/redistest"
)

const (
	testSite       = "http://app.example"
	publisherToken = "publisher-token-for-tests"
)

// syncBuffer is a bytes.Buffer safe for the logger and the test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type gateway struct {
	addr string
	logs *syncBuffer
	stop func() error // cancels serve and returns its error
}

func (g *gateway) url(path string) string { return "http://" + g.addr + path }

// startGateway runs serve with the test settings plus extra env.
func startGateway(t *testing.T, extra map[string]string) *gateway {
	t.Helper()
	kv := map[string]string{
		"NOTIFYD_ADDR":                "127.0.0.1:0",
		"NOTIFYD_EMBEDDED_REDIS_ADDR": "127.0.0.1:0",
		"NOTIFYD_JWT_SECRET":          testSecret,
		"NOTIFYD_PUBLISH_TOKENS":      publisherToken,
		"NOTIFYD_ALLOWED_ORIGINS":     testSite,
		"NOTIFYD_SHUTDOWN_SPREAD":     "50ms",
		"NOTIFYD_LOG_LEVEL":           "debug",
	}
	for k, v := range extra {
		kv[k] = v
	}
	cfg, err := parseConfig(nil, env(kv), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, logs, ready) }()
	g := &gateway{logs: logs}
	select {
	case g.addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("serve: %v\n%s", err, logs.String())
	}
	var once sync.Once
	var stopErr error
	g.stop = func() error {
		once.Do(func() { cancel(); stopErr = <-done })
		return stopErr
	}
	t.Cleanup(func() { _ = g.stop() })
	poll.Until(t, "condition", func() bool { return get(t, g.url("/readyz"), "").StatusCode == http.StatusOK })
	return g
}

func get(t *testing.T, url, token string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Origin", testSite)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	// Read and close the body now, so the connection goes back to the pool:
	// a poll loop must not hold one connection per call (the gateway caps
	// connections per client address).
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp
}

func token(t *testing.T, sub string, principals ...string) string {
	t.Helper()
	tok, err := auth.Mint([]byte(testSecret), sub, "", principals, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// dial connects the way PyAMS's service worker does: the token travels as a
// subprotocol after "accessToken".
func dial(t *testing.T, g *gateway, tok string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, "ws://"+g.addr+"/ws/chat", &websocket.DialOptions{
		Subprotocols: []string{"accessToken", tok},
		HTTPHeader:   http.Header{"Origin": {testSite}},
	})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if resp.Header.Get("Sec-WebSocket-Protocol") != "accessToken" {
		t.Fatalf("selected subprotocol %q", resp.Header.Get("Sec-WebSocket-Protocol"))
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// waitSessions polls /monitor until the gateway counts n sessions.
func waitSessions(t *testing.T, g *gateway, n int) {
	t.Helper()
	poll.Until(t, "condition", func() bool {
		var m struct {
			Count int `json:"sessions_count"`
		}
		_ = json.NewDecoder(get(t, g.url("/monitor"), "").Body).Decode(&m)
		return m.Count == n
	})
}

// read returns the next frame of c that is not an inbox (badge) frame: the
// gateway sends {"action":"inbox",...} at connect and after each counted
// message; tests of notifications skip them, readFrame sees them.
func read(t *testing.T, c *websocket.Conn) map[string]any {
	t.Helper()
	for {
		if m := readFrame(t, c); m["action"] != "inbox" {
			return m
		}
	}
}

// readFrame returns the next frame of c, whatever it is.
func readFrame(t *testing.T, c *websocket.Conn) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, data, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("frame %q: %v", data, err)
	}
	return m
}

// pyamsJSON is a message as PyAMS's json.dumps writes it: Python separators,
// nulls, no id.
func pyamsJSON(source, title string, targets ...string) string {
	quoted := make([]string, len(targets))
	for i, p := range targets {
		quoted[i] = `"` + p + `"`
	}
	return `{"host": "` + testSite + `", "channel": "chat:main", "action": "notify", "category": "content.review", ` +
		`"status": "info", "title": "` + title + `", "message": "body", "image": null, ` +
		`"source": {"id": "` + source + `", "title": "Someone"}, "target": {"principals": [` + strings.Join(quoted, ", ") + `]}, ` +
		`"url": null, "modal": false, "timestamp": "2026-11-21T10:00:00.123456+00:00"}`
}

func TestEmbeddedRedisEndToEnd(t *testing.T) {
	g := startGateway(t, nil)
	if !strings.Contains(g.logs.String(), "embedded in-process Redis") {
		t.Fatalf("no embedded-redis log line:\n%s", g.logs.String())
	}
	bob := dial(t, g, token(t, "users:bob"))
	alice := dial(t, g, token(t, "users:alice"))
	carol := dial(t, g, token(t, "users:carol"))
	waitSessions(t, g, 3)

	// Publish over HTTP from a backend.
	body := `{"host":"` + testSite + `","action":"notify","category":"content.review","title":"Review","message":"Please",` +
		`"source":{"id":"users:alice","title":"Alice"},"target":{"principals":["users:bob","users:alice"]}}`
	req, _ := http.NewRequest("POST", g.url("/api/chat/messages"), strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+publisherToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var accepted struct{ ID string }
	_ = json.NewDecoder(resp.Body).Decode(&accepted)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || accepted.ID == "" {
		t.Fatalf("publish: %d %+v", resp.StatusCode, accepted)
	}

	got := read(t, bob)
	if got["title"] != "Review" || got["id"] != accepted.ID {
		t.Fatalf("bob got %v", got)
	}
	if _, leaked := got["target"]; leaked {
		t.Fatalf("target leaked to recipient: %v", got)
	}

	// Neither the sender nor a non-target got it: the next thing each reads
	// is a broadcast published afterwards.
	rdb := redis.NewClient(&redis.Options{Addr: strings.TrimPrefix(addrOfEmbedded(t, g), "redis://")})
	defer rdb.Close()
	for _, m := range []string{
		pyamsJSON("users:alice", "broadcast", "system.Authenticated"),
		pyamsJSON("users:dave", "from dave", "system.Authenticated"),
	} {
		if err := rdb.Publish(t.Context(), "chat:main", m).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if m := read(t, alice); m["title"] != "from dave" {
		t.Fatalf("alice's first message is %v, want the one from dave (not her own)", m)
	}
	if m := read(t, carol); m["title"] != "broadcast" {
		t.Fatalf("carol's first message is %v, want the broadcast", m)
	}
	if m := read(t, bob); m["title"] != "broadcast" {
		t.Fatalf("bob's second message is %v, want the broadcast", m)
	}

	// History: bob sees the three, newest first, without targets; alice
	// sees only dave's (her own are skipped).
	var h struct {
		Notifications []map[string]any
	}
	poll.Until(t, "condition", func() bool {
		h.Notifications = nil
		_ = json.NewDecoder(get(t, g.url("/api/chat/notifications"), token(t, "users:bob")).Body).Decode(&h)
		return len(h.Notifications) == 3
	})
	if h.Notifications[0]["title"] != "from dave" || h.Notifications[2]["title"] != "Review" {
		t.Fatalf("bob's history order: %v", h.Notifications)
	}
	for _, n := range h.Notifications {
		if _, leaked := n["target"]; leaked {
			t.Fatalf("target in history item: %v", n)
		}
	}
	h.Notifications = nil
	_ = json.NewDecoder(get(t, g.url("/api/chat/notifications"), token(t, "users:alice")).Body).Decode(&h)
	if len(h.Notifications) != 1 || h.Notifications[0]["title"] != "from dave" {
		t.Fatalf("alice's history: %v", h.Notifications)
	}
}

// addrOfEmbedded digs the embedded Redis address out of the start-up log.
func addrOfEmbedded(t *testing.T, g *gateway) string {
	t.Helper()
	for _, line := range strings.Split(g.logs.String(), "\n") {
		if !strings.Contains(line, "embedded in-process Redis") {
			continue
		}
		var entry struct{ Addr string }
		if err := json.Unmarshal([]byte(line), &entry); err == nil && entry.Addr != "" {
			return entry.Addr
		}
	}
	t.Fatal("embedded redis address not logged")
	return ""
}

func TestTwoGatewaysStoreHistoryExactlyOnce(t *testing.T) {
	srv := redistest.Start(t)
	redisEnv := map[string]string{"NOTIFYD_REDIS_URL": srv.URL()}
	g1, g2 := startGateway(t, redisEnv), startGateway(t, redisEnv)
	bob1, bob2 := dial(t, g1, token(t, "users:bob")), dial(t, g2, token(t, "users:bob", "role:reviewer"))
	waitSessions(t, g1, 1)
	waitSessions(t, g2, 1)

	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()
	// A bare PUBLISH, as PyAMS's producers do it: no id.
	for i := range 7 {
		if err := rdb.Publish(t.Context(), "chat:main", pyamsJSON("users:alice", "m"+string(rune('0'+i)), "users:bob")).Err(); err != nil {
			t.Fatal(err)
		}
	}
	ids := map[string]bool{}
	for i := range 7 {
		a, b := read(t, bob1), read(t, bob2)
		want := "m" + string(rune('0'+i))
		if a["title"] != want || b["title"] != want || a["id"] != b["id"] || a["id"] == "" {
			t.Fatalf("message %d: gateway1 %v, gateway2 %v", i, a, b)
		}
		ids[a["id"].(string)] = true
	}
	if len(ids) != 7 {
		t.Fatalf("ids not unique: %v", ids)
	}
	key := "chat:notifications::" + testSite
	poll.Until(t, "condition", func() bool { return rdb.LLen(t.Context(), key).Val() >= 7 })
	// A sentinel through both gateways: each writes history in order after
	// delivering, so once both delivered it and it is stored, any duplicate of
	// the first seven would already be in the list.
	if err := rdb.Publish(t.Context(), "chat:main", pyamsJSON("users:alice", "sentinel", "users:bob")).Err(); err != nil {
		t.Fatal(err)
	}
	if a, b := read(t, bob1), read(t, bob2); a["title"] != "sentinel" || b["title"] != "sentinel" {
		t.Fatalf("sentinel: %v / %v", a, b)
	}
	poll.Until(t, "condition", func() bool { return rdb.LLen(t.Context(), key).Val() >= 8 })
	items, err := rdb.LRange(t.Context(), key, 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 8 {
		t.Fatalf("history has %d entries for 8 messages and 2 gateways:\n%s", len(items), strings.Join(items, "\n"))
	}
	for i, item := range items[1:] {
		want := `"title":"m` + string(rune('0'+6-i)) + `"`
		if !strings.Contains(item, want) || !strings.Contains(item, `"target":{"principals":["users:bob"]}`) {
			t.Fatalf("entry %d = %s, want %s with its target kept", i+1, item, want)
		}
	}
}

func TestGracefulShutdownClosesWebsockets(t *testing.T) {
	g := startGateway(t, nil)
	c := dial(t, g, token(t, "users:bob"))
	waitSessions(t, g, 1)
	readErr := make(chan error, 1)
	go func() { // inbox frames may come first: read until the close
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				readErr <- err
				return
			}
		}
	}()
	if err := g.stop(); err != nil {
		t.Fatalf("serve returned %v after shutdown", err)
	}
	select {
	case err := <-readErr:
		if code := websocket.CloseStatus(err); code != websocket.StatusGoingAway {
			t.Fatalf("close status %v (%v), want 1001", code, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("websocket still open after shutdown")
	}
	if _, err := http.Get(g.url("/healthz")); err == nil {
		t.Fatal("HTTP still served after shutdown")
	}
}

func jsonDecode(resp *http.Response, v any) error {
	return json.NewDecoder(resp.Body).Decode(v)
}
