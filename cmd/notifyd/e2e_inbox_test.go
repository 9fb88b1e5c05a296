package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// untilInbox reads frames of c until an inbox frame with unread want, and
// returns the non-inbox frames seen on the way.
func untilInbox(t *testing.T, c *websocket.Conn, want float64) []map[string]any {
	t.Helper()
	var others []map[string]any
	for {
		m := readFrame(t, c)
		if m["action"] != "inbox" {
			others = append(others, m)
			continue
		}
		if m["unread"] == want {
			return others
		}
	}
}

// request sends a REST request as token (a user JWT or the publisher
// token) with extra headers (name, value pairs), and decodes the JSON
// answer.
func request(t *testing.T, method, url, token, body string, headers ...string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Origin", testSite)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

// The inbox through the daemon: a user's two tabs get the message and the
// badge; REST lists it; marking read on REST updates both tabs; an update and
// a retract reach the tabs; a reconnect with since gets what the 2-entry
// PyAMS list no longer holds.
func TestInboxEndToEnd(t *testing.T) {
	g := startGateway(t, map[string]string{"NOTIFYD_NOTIFICATIONS_LENGTH": "2"})
	bob := token(t, "users:bob", "role:reviewer")
	tab1, tab2 := dial(t, g, bob), dial(t, g, bob)
	waitSessions(t, g, 2)
	untilInbox(t, tab1, 0)
	untilInbox(t, tab2, 0)

	first := publishTo(t, g, "one", "users:bob")
	publishTo(t, g, "for someone else", "users:carol")
	publishTo(t, g, "two", "role:reviewer")
	// A bare PUBLISH, as PyAMS producers do, goes through the intake.
	rdb := redis.NewClient(&redis.Options{Addr: strings.TrimPrefix(addrOfEmbedded(t, g), "redis://")})
	defer rdb.Close()
	if err := rdb.Publish(t.Context(), "chat:main", pyamsJSON("users:alice", "three", "users:bob")).Err(); err != nil {
		t.Fatal(err)
	}
	for _, tab := range []*websocket.Conn{tab1, tab2} {
		got := untilInbox(t, tab, 3)
		if len(got) != 3 || got[0]["title"] != "one" || got[1]["title"] != "two" || got[2]["title"] != "three" {
			t.Fatalf("tab got %v", got)
		}
	}

	code, page := request(t, http.MethodGet, g.url("/api/inbox"), bob, "")
	if code != http.StatusOK || page["unread"] != 3.0 {
		t.Fatalf("GET /api/inbox: %d %v", code, page)
	}
	list := page["notifications"].([]any)
	if len(list) != 3 || list[0].(map[string]any)["title"] != "three" || list[2].(map[string]any)["id"] != first {
		t.Fatalf("inbox list %v", list)
	}
	for _, n := range list {
		if _, ok := n.(map[string]any)["target"]; ok {
			t.Fatalf("target in the inbox: %v", n)
		}
	}
	if code, out := request(t, http.MethodPost, g.url("/api/inbox/read"), bob, `{"ids":["`+first+`"]}`); code != 200 || out["unread"] != 2.0 {
		t.Fatalf("mark read: %d %v", code, out)
	}
	untilInbox(t, tab1, 2)
	untilInbox(t, tab2, 2)

	code, out := request(t, http.MethodPatch, g.url("/api/chat/messages/"+first+"?host="+testSite), publisherToken, `{"title":"one, edited"}`)
	if code != http.StatusOK {
		t.Fatalf("PATCH: %d %v", code, out)
	}
	if m := read(t, tab1); m["action"] != "update" || m["title"] != "one, edited" || m["id"] != first {
		t.Fatalf("tab1 after PATCH: %v", m)
	}
	if code, out := request(t, http.MethodDelete, g.url("/api/chat/messages/"+first+"?host="+testSite), publisherToken, ""); code != http.StatusOK {
		t.Fatalf("DELETE: %d %v", code, out)
	}
	if m := read(t, tab1); m["action"] != "retract" || m["id"] != first {
		t.Fatalf("tab1 after DELETE: %v", m)
	}

	// The PyAMS list keeps 2 entries; the inbox replays everything after
	// since, the retracted message excepted.
	late, err := dialURL(t, fmt.Sprintf("ws://%s/ws/chat?since=%s", g.addr, first), bob)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := read(t, late), read(t, late); a["title"] != "two" || b["title"] != "three" {
		t.Fatalf("replay after %s: %v, %v", first, a, b)
	}
}

// The inbox across two gateways on a real 3-master Redis Cluster: a message
// published on one gateway lands once in the inbox; marking it read through
// the other gateway's REST API updates the badge of bob's tab on the first;
// preferences saved on one gateway mute live pushes on the other.
func TestInboxClusterTwoGateways(t *testing.T) {
	cl := redistest.StartCluster(t, 3)
	env := map[string]string{"NOTIFYD_REDIS_ADDRS": strings.Join(cl.Addrs(), ",")}
	g1, g2 := startGateway(t, env), startGateway(t, env)
	bob := token(t, "users:bob", "group:ops")
	tab := dial(t, g1, bob)
	waitSessions(t, g1, 1)
	untilInbox(t, tab, 0)

	id := publishTo(t, g2, "cluster one", "users:bob")
	publishTo(t, g1, "cluster two", "group:ops")
	if got := untilInbox(t, tab, 2); len(got) != 2 || got[0]["id"] != id {
		t.Fatalf("tab got %v", got)
	}
	code, page := request(t, http.MethodGet, g2.url("/api/inbox"), bob, "")
	if code != http.StatusOK || len(page["notifications"].([]any)) != 2 {
		t.Fatalf("GET /api/inbox on gateway2: %d %v", code, page)
	}
	if code, out := request(t, http.MethodPost, g2.url("/api/inbox/read"), bob, `{"all":true}`); code != 200 || out["unread"] != 0.0 {
		t.Fatalf("read all on gateway2: %d %v", code, out)
	}
	untilInbox(t, tab, 0) // pushed by gateway1, told by gateway2 through the control channel

	if code, out := request(t, http.MethodPut, g2.url("/api/inbox/preferences"), bob, `{"muted":["test"]}`); code != 200 {
		t.Fatalf("PUT preferences: %d %v", code, out)
	}
	// The preference travels on the control channel, messages on the
	// delivery channel, in no common order: publish until gateway1 holds one
	// back as muted.
	poll.Until(t, "the preference applied on gateway1", func() bool {
		publishTo(t, g2, "muted", "users:bob")
		return metricValue(t, g1, "notifyd_ws_muted_by_prefs_total") > 0
	})
}

// metricValue reads an unlabelled metric of g (0 when absent).
func metricValue(t *testing.T, g *gateway, name string) float64 {
	t.Helper()
	for _, line := range strings.Split(readBody(t, get(t, g.url("/metrics"), "")), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			var f float64
			_, _ = fmt.Sscan(v, &f)
			return f
		}
	}
	return 0
}

// NOTIFYD_DELIVERY_CHANNEL=off runs without the inbox: chat:main is
// delivered directly, no badge frames, no inbox routes.
func TestInboxOff(t *testing.T) {
	g := startGateway(t, map[string]string{"NOTIFYD_DELIVERY_CHANNEL": "off"})
	bob := token(t, "users:bob")
	c := dial(t, g, bob)
	waitSessions(t, g, 1)
	id := publishTo(t, g, "no inbox", "users:bob")
	if m := readFrame(t, c); m["id"] != id {
		t.Fatalf("first frame %v, want the message (no badge frame without the inbox)", m)
	}
	if code, _ := request(t, http.MethodGet, g.url("/api/inbox"), bob, ""); code != http.StatusNotFound {
		t.Fatalf("GET /api/inbox without the inbox: %d, want 404", code)
	}
}
