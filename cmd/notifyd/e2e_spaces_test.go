package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/internal/redistest"
	"github.com/notifyd/notifyd/webhook"
)

// chatter is one websocket of a chat test: a user's connection that is not
// PyAMS's client (token in the query).
type chatter struct {
	t    *testing.T
	c    *websocket.Conn
	name string
	n    int // rids
}

func dialChat(t *testing.T, g *gateway, sub string) *chatter {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+g.addr+"/ws/chat?token="+token(t, sub), &websocket.DialOptions{
		HTTPHeader: http.Header{"Origin": {testSite}},
	})
	if err != nil {
		t.Fatalf("dial %s: %v", sub, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return &chatter{t: t, c: c, name: sub}
}

// next returns the next frame that is not an inbox badge frame.
func (ch *chatter) next() map[string]any {
	ch.t.Helper()
	return read(ch.t, ch.c)
}

// do sends a command (fields as JSON members without action and rid) and
// returns its answer, skipping the events that arrive before it.
func (ch *chatter) do(action, fields string) map[string]any {
	ch.t.Helper()
	ch.n++
	rid := fmt.Sprintf("%s-%d", ch.name, ch.n)
	cmd := `{"action":"` + action + `","rid":"` + rid + `"`
	if fields != "" {
		cmd += "," + fields
	}
	cmd += "}"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ch.c.Write(ctx, websocket.MessageText, []byte(cmd)); err != nil {
		ch.t.Fatalf("write %s: %v", cmd, err)
	}
	for {
		m := ch.next()
		if m["rid"] == rid {
			return m
		}
	}
}

func (ch *chatter) ok(action, fields string) map[string]any {
	ch.t.Helper()
	m := ch.do(action, fields)
	if m["action"] != "ok" {
		ch.t.Fatalf("%s %s %s: %v", ch.name, action, fields, m)
	}
	return m
}

func (ch *chatter) refused(action, fields, code string) {
	ch.t.Helper()
	if m := ch.do(action, fields); m["action"] != "error" || m["code"] != code {
		ch.t.Fatalf("%s %s %s: %v, want error %s", ch.name, action, fields, m, code)
	}
}

// expect reads frames until one with action; frames of other actions in
// between fail the test unless they are in skip.
func (ch *chatter) expect(action string, skip ...string) map[string]any {
	ch.t.Helper()
	for {
		m := ch.next()
		if m["action"] == action {
			return m
		}
		skipped := false
		for _, s := range skip {
			skipped = skipped || m["action"] == s
		}
		if !skipped {
			ch.t.Fatalf("%s: got %v while waiting for %s", ch.name, m, action)
		}
	}
}

// nothingBefore publishes a notification to the chatter's user and expects
// it as the next frame: nothing else was queued for it meanwhile. The
// user's other connections (tabs) get the marker too.
func (ch *chatter) nothingBefore(g *gateway, tabs ...*chatter) {
	ch.t.Helper()
	id := publishTo(ch.t, g, "marker", ch.name)
	if m := ch.next(); m["id"] != id {
		ch.t.Fatalf("%s got %v before the marker", ch.name, m)
	}
	for _, tab := range tabs {
		tab.expect("notify", "message")
	}
}

// TestSpacesTwoGateways: the chat across two gateways on one real Redis.
func TestSpacesTwoGateways(t *testing.T) {
	srv := redistest.Start(t)
	env := map[string]string{"NOTIFYD_REDIS_URL": "redis://" + srv.Addr() + "/0"}
	testSpaces(t, startGateway(t, env), startGateway(t, env))
}

// TestSpacesCluster: the same on a three-master Redis Cluster.
func TestSpacesCluster(t *testing.T) {
	cl := redistest.StartCluster(t, 3)
	env := map[string]string{"NOTIFYD_REDIS_ADDRS": strings.Join(cl.Addrs(), ",")}
	testSpaces(t, startGateway(t, env), startGateway(t, env))
}

func testSpaces(t *testing.T, g1, g2 *gateway) {
	alice, bob, carol := token(t, "users:alice"), token(t, "users:bob"), token(t, "users:carol")
	code, sp := request(t, "POST", g1.url("/api/spaces"), alice, `{"title":"Ops","members":["users:bob"]}`)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, sp)
	}
	id := sp["id"].(string)
	sf := `"space":"` + id + `"`

	// A non-member learns nothing: the same 404 as an unknown space.
	c1, b1 := request(t, "GET", g2.url("/api/spaces/"+id), carol, "")
	c2, b2 := request(t, "GET", g2.url("/api/spaces/unknown-space"), carol, "")
	if c1 != http.StatusNotFound || c2 != http.StatusNotFound || b1["message"] != b2["message"] {
		t.Fatalf("non-member: %d %v; unknown: %d %v", c1, b1, c2, b2)
	}

	tab1, tab2 := dialChat(t, g1, "users:alice"), dialChat(t, g2, "users:alice")
	bobWS, carolWS := dialChat(t, g2, "users:bob"), dialChat(t, g1, "users:carol")
	for _, ch := range []*chatter{tab1, tab2, bobWS} {
		ch.ok("subscribe", sf)
	}
	carolWS.refused("subscribe", sf, "not_found")
	carolWS.refused("send", sf+`,"kind":"chat","body":"let me in"`, "not_found")

	// The sender comes from the token; the sending tab gets only the ok.
	sent := tab1.ok("send", sf+`,"kind":"chat","body":"<script>x</script>","sender":{"id":"users:mallory"}`)
	msgID := sent["id"].(string)
	for _, ch := range []*chatter{tab2, bobWS} {
		m := ch.expect("message")
		sender := m["sender"].(map[string]any)
		if m["id"] != msgID || sender["id"] != "users:alice" || m["body"] != "<script>x</script>" {
			t.Fatalf("%s got %v", ch.name, m)
		}
	}
	tab1.nothingBefore(g2, tab2)
	carolWS.nothingBefore(g2)

	// A send retried with its key is the first one: same id, delivered once.
	k1 := tab1.ok("send", sf+`,"kind":"chat","body":"keyed","key":"retry-1"`)
	k2 := tab1.ok("send", sf+`,"kind":"chat","body":"keyed","key":"retry-1"`)
	if k1["id"] != k2["id"] || k1["timestamp"] != k2["timestamp"] {
		t.Fatalf("retried send answered %v then %v", k1, k2)
	}
	if m := bobWS.expect("message"); m["id"] != k1["id"] {
		t.Fatalf("bob got %v", m)
	}
	if m := tab2.expect("message"); m["id"] != k1["id"] {
		t.Fatalf("alice's other tab got %v", m)
	}
	marker := publishTo(t, g1, "after the keyed send", "users:bob")
	if m := bobWS.next(); m["id"] != marker {
		t.Fatalf("bob got %v: the retried send was delivered twice", m)
	}

	// Typing reaches the others, and is never stored.
	bobWS.ok("typing", sf)
	for _, ch := range []*chatter{tab1, tab2} {
		if m := ch.expect("typing"); m["principal"] != "users:bob" {
			t.Fatalf("typing %v", m)
		}
	}
	// A thread reply and a reaction, shown by history.
	reply := bobWS.ok("send", sf+`,"kind":"chat","body":"on it","thread":"`+msgID+`"`)
	tab1.expect("message")
	tab2.expect("message")
	if m := tab1.ok("react", `"message":"`+reply["id"].(string)+`","emoji":"+1"`); m["count"] != 1.0 {
		t.Fatalf("react answer %v", m)
	}
	bobWS.expect("reaction")
	code, page := request(t, "GET", g2.url("/api/spaces/"+id+"/messages?thread="+msgID), bob, "")
	msgs, _ := page["messages"].([]any)
	if code != 200 || len(msgs) != 1 {
		t.Fatalf("thread page: %d %v", code, page)
	}
	r0 := msgs[0].(map[string]any)
	reactions, _ := r0["reactions"].([]any)
	if r0["id"] != reply["id"] || len(reactions) != 1 || reactions[0].(map[string]any)["count"] != 1.0 {
		t.Fatalf("thread reply %v", r0)
	}
	code, page = request(t, "GET", g1.url("/api/spaces/"+id+"/messages"), alice, "")
	if msgs, _ = page["messages"].([]any); code != 200 || len(msgs) != 3 {
		t.Fatalf("history: %d %v (the first message, the keyed one once, the reply; typing is not stored)", code, page)
	}

	// Edit and delete rights.
	bobWS.refused("edit", `"message":"`+msgID+`","body":"mine now"`, "forbidden")
	tab1.ok("edit", `"message":"`+msgID+`","body":"edited"`)
	if m := bobWS.expect("update", "reaction"); m["body"] != "edited" {
		t.Fatalf("update %v", m)
	}
	bobWS.refused("delete", `"message":"`+msgID+`"`, "forbidden")

	// A publisher acts for the principal it names; a user never for another.
	code, out := request(t, "POST", g2.url("/api/spaces/"+id+"/messages"), publisherToken, `{"kind":"chat","body":"from the bot"}`,
		"X-Notifyd-Principal", "users:alice", "X-Notifyd-Title", "Alice")
	if code != http.StatusCreated {
		t.Fatalf("publisher send: %d %v", code, out)
	}
	if m := bobWS.expect("message", "update", "reaction"); m["body"] != "from the bot" || m["sender"].(map[string]any)["id"] != "users:alice" {
		t.Fatalf("bot message %v", m)
	}
	tab1.expect("message", "update", "reaction") // the bot's message is not this tab's own send
	tab2.expect("message", "update", "reaction")
	if code, out := request(t, "POST", g2.url("/api/spaces/"+id+"/messages"), bob, `{"kind":"chat","body":"x"}`,
		"X-Notifyd-Principal", "users:alice"); code != http.StatusForbidden {
		t.Fatalf("user acting for another: %d %v", code, out)
	}

	// Removing bob on gateway 1 stops his socket on gateway 2 at once.
	if code, out := request(t, "DELETE", g1.url("/api/spaces/"+id+"/members/users:bob"), alice, ""); code != http.StatusNoContent {
		t.Fatalf("remove bob: %d %v", code, out)
	}
	if m := bobWS.expect("member", "update", "reaction", "message"); m["joined"] != false || m["principal"] != "users:bob" {
		t.Fatalf("member event %v", m)
	}
	tab1.ok("send", sf+`,"kind":"chat","body":"bob is gone"`)
	tab2.expect("message", "member", "update", "reaction")
	bobWS.nothingBefore(g1)
	bobWS.refused("subscribe", sf, "not_found")

	// A direct space is the same whoever asks.
	code, d1 := request(t, "POST", g1.url("/api/spaces/direct/users:bob"), alice, "")
	code2, d2 := request(t, "POST", g2.url("/api/spaces/direct/users:alice"), bob, "")
	if code != http.StatusCreated || code2 != http.StatusOK || d1["id"] != d2["id"] || d1["kind"] != "direct" {
		t.Fatalf("direct: %d %v / %d %v", code, d1, code2, d2)
	}
}

// TestSpacesWebhooksOnce: a bot's webhook gets every new message of its
// space once, signed, however many gateways run, after retries.
func TestSpacesWebhooksOnce(t *testing.T) {
	const secret = "webhook-secret-0123456789"
	var mu sync.Mutex
	seen := map[string]int{} // delivery id -> successful deliveries
	failed := false
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify(secret, r.Header, body, time.Now(), time.Minute); err != nil {
			t.Errorf("signature: %v", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if !failed { // the first attempt of all fails: retried
			failed = true
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		seen[r.Header.Get("X-Notifyd-Delivery")]++
	}))
	defer recv.Close()

	srv := redistest.Start(t)
	env := map[string]string{"NOTIFYD_REDIS_URL": "redis://" + srv.Addr() + "/0", "NOTIFYD_WEBHOOK_ALLOW_PRIVATE": "true"}
	g1, g2 := startGateway(t, env), startGateway(t, env)
	alice := token(t, "users:alice")
	_, sp := request(t, "POST", g1.url("/api/spaces"), alice, `{"title":"Bots","members":["users:bot"]}`)
	id := sp["id"].(string)
	code, out := request(t, "POST", g2.url("/api/webhooks"), publisherToken,
		`{"url":"`+recv.URL+`/hook","spaces":["`+id+`"],"secret":"`+secret+`"}`)
	if code != http.StatusCreated {
		t.Fatalf("register: %d %v", code, out)
	}
	const n = 4
	for i := range n {
		g := []*gateway{g1, g2}[i%2]
		if code, out := request(t, "POST", g.url("/api/spaces/"+id+"/messages"), alice, fmt.Sprintf(`{"kind":"chat","body":"m%d"}`, i)); code != http.StatusCreated {
			t.Fatalf("send: %d %v", code, out)
		}
	}
	poll.Until(t, "every message delivered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == n
	})
	poll.Until(t, "the gateways' queues empty", func() bool {
		return metricValue(t, g1, "notifyd_webhook_pending")+metricValue(t, g2, "notifyd_webhook_pending") == 0
	})
	mu.Lock()
	defer mu.Unlock()
	for d, k := range seen {
		if k != 1 {
			t.Errorf("delivery %s received %d times", d, k)
		}
	}
}
