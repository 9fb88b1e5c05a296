package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/internal/redistest"
)

func post(t *testing.T, url, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func publishTo(t *testing.T, g *gateway, title string, targets ...string) string {
	t.Helper()
	quoted, _ := json.Marshal(targets)
	code, out := post(t, g.url("/api/chat/messages"), publisherToken,
		`{"host":"`+testSite+`","action":"notify","category":"test","title":"`+title+`","message":"m",`+
			`"source":{"id":"users:system","title":"System"},"target":{"principals":`+string(quoted)+`}}`)
	if code != http.StatusAccepted {
		t.Fatalf("publish %q: %d %v", title, code, out)
	}
	return out["id"].(string)
}

func dialURL(t *testing.T, rawURL, tok string) (*websocket.Conn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, rawURL, &websocket.DialOptions{
		Subprotocols: []string{"accessToken", tok},
		HTTPHeader:   http.Header{"Origin": {testSite}},
	})
	if err == nil {
		t.Cleanup(func() { c.CloseNow() })
	}
	return c, err
}

// readUntilClosed reads until the connection closes and returns the close
// status and the text frames seen before it.
func readUntilClosed(t *testing.T, c *websocket.Conn) (websocket.StatusCode, []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var frames []string
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			return websocket.CloseStatus(err), frames
		}
		frames = append(frames, string(data))
	}
}

func TestClientMovesGatewayAndCatchesUpWithSince(t *testing.T) {
	srv := redistest.Start(t)
	redisEnv := map[string]string{"NOTIFYD_REDIS_URL": srv.URL()}
	g1, g2 := startGateway(t, redisEnv), startGateway(t, redisEnv)
	tok := token(t, "users:bob")
	c := dial(t, g1, tok)
	waitSessions(t, g1, 1)
	first := publishTo(t, g2, "before", "users:bob")
	if m := read(t, c); m["id"] != first {
		t.Fatalf("first message %v", m)
	}
	// g1 goes away; bob is told 1001 and comes back on g2 with since.
	if err := g1.stop(); err != nil {
		t.Fatal(err)
	}
	if code, _ := readUntilClosed(t, c); code != websocket.StatusGoingAway {
		t.Fatalf("close %v, want 1001", code)
	}
	missed := []string{publishTo(t, g2, "missed 1", "users:bob"), publishTo(t, g2, "missed 2", "users:bob")}
	c2, err := dialURL(t, "ws://"+g2.addr+"/ws/chat?since="+first, tok)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range missed {
		if m := read(t, c2); m["id"] != id {
			t.Fatalf("replayed %d = %v, want id %s", i, m, id)
		}
	}
	live := publishTo(t, g2, "live", "users:bob")
	if m := read(t, c2); m["id"] != live {
		t.Fatalf("after replay got %v, want the live message (no duplicate at the seam)", m)
	}
	// A since that is no longer kept: the gap frame, then what is kept.
	c3, err := dialURL(t, "ws://"+g2.addr+"/ws/chat?since=01AAAAAAAAAAAAAAAAAAAAAAAA", tok)
	if err != nil {
		t.Fatal(err)
	}
	if m := read(t, c3); m["action"] != "gap" || m["since"] != "01AAAAAAAAAAAAAAAAAAAAAAAA" {
		t.Fatalf("want the gap frame first, got %v", m)
	}
	if m := read(t, c3); m["id"] != first {
		t.Fatalf("after the gap frame got %v, want the oldest kept message", m)
	}
}

func TestRevocationClosesEveryGatewayAndRefusesOldTokens(t *testing.T) {
	srv := redistest.Start(t)
	redisEnv := map[string]string{"NOTIFYD_REDIS_URL": srv.URL()}
	g1, g2 := startGateway(t, redisEnv), startGateway(t, redisEnv)
	eveTok, bobTok := token(t, "users:eve"), token(t, "users:bob")
	eve1, eve2, bob := dial(t, g1, eveTok), dial(t, g2, eveTok), dial(t, g2, bobTok)
	waitSessions(t, g1, 1)
	waitSessions(t, g2, 2)

	// A user's JWT cannot revoke anyone.
	if code, _ := post(t, g1.url("/api/admin/disconnect"), bobTok, `{"principal":"users:eve"}`); code != http.StatusForbidden {
		t.Fatalf("disconnect with a user token: %d, want 403", code)
	}
	code, out := post(t, g1.url("/api/admin/disconnect"), publisherToken, `{"principal":"users:eve"}`)
	if code != http.StatusOK || out["principal"] != "users:eve" {
		t.Fatalf("disconnect: %d %v", code, out)
	}
	for name, c := range map[string]*websocket.Conn{"gateway 1": eve1, "gateway 2": eve2} {
		if code, _ := readUntilClosed(t, c); code != 4003 {
			t.Fatalf("%s: eve closed with %v, want 4003", name, code)
		}
	}
	// Bob is untouched.
	id := publishTo(t, g1, "still here", "users:bob")
	if m := read(t, bob); m["id"] != id {
		t.Fatalf("bob got %v", m)
	}
	// Eve's old token is refused on both gateways with PyAMS's logout frame.
	for _, g := range []*gateway{g1, g2} {
		c, err := dialURL(t, "ws://"+g.addr+"/ws/chat", eveTok)
		if err != nil {
			t.Fatal(err)
		}
		code, frames := readUntilClosed(t, c)
		if code != 4001 || len(frames) != 1 || frames[0] != `{"action":"logout","status":"FORBIDDEN"}` {
			t.Fatalf("old token: close %v frames %q", code, frames)
		}
		if resp := get(t, g.url("/api/chat/notifications"), eveTok); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("REST with the old token: %d", resp.StatusCode)
		}
	}
	// A token issued more than the leeway after the revocation works. A
	// token may carry an iat up to the leeway ahead of the gateway's clock,
	// so one dated now+leeway (in whole seconds) passes within about a
	// second; until then it is refused like the old ones.
	poll.Until(t, "a token issued after the revocation accepted", func() bool {
		fresh, err := auth.Mint([]byte(testSecret), "users:eve", "", nil, time.Now().Add(auth.DefaultLeeway), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		resp := get(t, g2.url("/api/chat/context"), fresh)
		return resp.StatusCode == http.StatusOK
	})
}

func TestMetricsEndpoint(t *testing.T) {
	g := startGateway(t, nil)
	c := dial(t, g, token(t, "users:bob"))
	waitSessions(t, g, 1)
	publishTo(t, g, "counted", "users:bob")
	read(t, c)
	resp, err := http.Get(g.url("/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		"notifyd_ws_connections 1",
		"notifyd_ws_delivered_total 1",
		"notifyd_subscriber_ready 1",
		`notifyd_ws_disconnects_total{reason="slow"} 0`,
		`notifyd_channel_dropped_total{reason="malformed"} 0`,
	} {
		if !strings.Contains(string(body), want) {
			t.Fatalf("metrics lack %q:\n%s", want, body)
		}
	}
}

// TestMissedRevocationAppliedAfterResubscribe: a revocation whose
// announcement this gateway never heard (it is stored, not published, as if
// the gateway was resubscribing at that moment) is applied to open sockets
// once the gateway resubscribes.
func TestMissedRevocationAppliedAfterResubscribe(t *testing.T) {
	srv := redistest.Start(t)
	g := startGateway(t, map[string]string{"NOTIFYD_REDIS_URL": srv.URL()})
	eve := dial(t, g, token(t, "users:eve"))
	bob := dial(t, g, token(t, "users:bob"))
	waitSessions(t, g, 2)
	at := time.Now().Add(time.Second).UnixMilli()
	if _, err := srv.Do("SET", "notifyd:revoked:users:eve", strconv.FormatInt(at, 10)); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Do("CLIENT", "KILL", "TYPE", "pubsub"); err != nil {
		t.Fatal(err)
	}
	if code, _ := readUntilClosed(t, eve); code != 4003 {
		t.Fatalf("eve closed with %v, want 4003", code)
	}
	id := publishTo(t, g, "bob stays", "users:bob")
	if m := read(t, bob); m["id"] != id {
		t.Fatalf("bob got %v", m)
	}
}

// TestSiteBoundTokens: with NOTIFYD_JWT_SITE_CLAIM, a token for one site
// cannot be used to read another (websocket or REST), whatever Origin or
// ?host= the client sends.
func TestSiteBoundTokens(t *testing.T) {
	const other = "http://other.example"
	g := startGateway(t, map[string]string{
		"NOTIFYD_JWT_SITE_CLAIM":  "sites",
		"NOTIFYD_ALLOWED_ORIGINS": testSite + "," + other,
	})
	tok, err := auth.MintForSites([]byte(testSecret), "users:bob", "", nil, []string{testSite}, "sites", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	unbound := token(t, "users:bob") // no site claim: refused everywhere
	c := dial(t, g, tok)             // Origin testSite: allowed
	waitSessions(t, g, 1)
	id := publishTo(t, g, "for my site", "users:bob")
	if m := read(t, c); m["id"] != id {
		t.Fatalf("got %v", m)
	}
	for _, tc := range []struct{ name, url, tok string }{
		{"other site via ?host=", "ws://" + g.addr + "/ws/chat?host=" + other, tok},
		{"token without site claim", "ws://" + g.addr + "/ws/chat", unbound},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		hdr := http.Header{}
		if tc.name == "token without site claim" {
			hdr.Set("Origin", testSite)
		}
		ws, _, err := websocket.Dial(ctx, tc.url, &websocket.DialOptions{Subprotocols: []string{"accessToken", tc.tok}, HTTPHeader: hdr})
		cancel()
		if err != nil {
			t.Fatalf("%s: dial: %v", tc.name, err)
		}
		code, frames := readUntilClosed(t, ws)
		if code != 4001 || len(frames) != 1 || frames[0] != `{"action":"logout","status":"FORBIDDEN"}` {
			t.Fatalf("%s: close %v frames %q, want the logout frame and 4001", tc.name, code, frames)
		}
	}
	req, _ := http.NewRequest("GET", g.url("/api/chat/notifications?host="+other), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("REST history of another site: %d, want 401", resp.StatusCode)
	}
	if resp := get(t, g.url("/api/chat/notifications"), tok); resp.StatusCode != http.StatusOK {
		t.Fatalf("REST history of its own site: %d", resp.StatusCode)
	}
}
