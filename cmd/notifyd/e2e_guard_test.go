package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/poll"
)

// A client that sends a request's headers, announces a body and never sends
// it is answered and let go after NOTIFYD_HTTP_READ_TIMEOUT, on the REST
// routes, whether they read the body (publish) or not (history).
func TestSilentBodiesAreLetGo(t *testing.T) {
	g := startGateway(t, map[string]string{"NOTIFYD_HTTP_READ_TIMEOUT": "100ms"})
	for _, head := range []string{
		"GET /api/chat/notifications HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n",
		"POST /api/chat/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n",
	} {
		c, err := net.Dial("tcp", g.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, head); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("%q: no answer: %v", strings.Fields(head)[1], err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%q: status %d, want 401", strings.Fields(head)[1], resp.StatusCode)
		}
	}
}

// One client address holding NOTIFYD_MAX_CONNECTIONS_PER_ADDR connections
// gets no more; another address is served meanwhile.
func TestConnectionsPerAddressCapped(t *testing.T) {
	g := startGateway(t, map[string]string{"NOTIFYD_MAX_CONNECTIONS_PER_ADDR": "3"})
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	for range 3 {
		c, err := d.Dial("tcp", g.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	metric := func(name string) string {
		for _, line := range strings.Split(readBody(t, get(t, g.url("/metrics"), "")), "\n") {
			if strings.HasPrefix(line, name+" ") {
				return strings.TrimPrefix(line, name+" ")
			}
		}
		return ""
	}
	over, err := d.Dial("tcp", g.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer over.Close()
	_ = over.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := over.Read(make([]byte, 1)); err == nil {
		t.Fatal("fourth connection of 127.0.0.2 was served")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("fourth connection of 127.0.0.2 was left open")
	}
	poll.Until(t, "the refusal counted", func() bool { return metric("notifyd_http_conns_refused_total") == "1" })
	if resp := get(t, g.url("/healthz"), ""); resp.StatusCode != http.StatusOK { // from 127.0.0.1
		t.Fatalf("another address: %d", resp.StatusCode)
	}
}

// Several allowed sites without a site claim: one warning, in the log and
// in /readyz; with the claim, none.
func TestMultiSiteWarning(t *testing.T) {
	readyz := func(g *gateway) []string {
		var r struct{ Warnings []string }
		if err := json.Unmarshal([]byte(readBody(t, get(t, g.url("/readyz"), ""))), &r); err != nil {
			t.Fatal(err)
		}
		return r.Warnings
	}
	open := startGateway(t, map[string]string{"NOTIFYD_ALLOWED_ORIGINS": testSite + ",https://other.example"})
	if w := readyz(open); len(w) != 1 || !strings.Contains(w[0], "NOTIFYD_JWT_SITE_CLAIM") {
		t.Fatalf("readyz warnings = %q", w)
	}
	if !strings.Contains(open.logs.String(), "NOTIFYD_JWT_SITE_CLAIM") {
		t.Error("no warning in the log")
	}
	bound := startGateway(t, map[string]string{
		"NOTIFYD_ALLOWED_ORIGINS": testSite + ",https://other.example", "NOTIFYD_JWT_SITE_CLAIM": "sites",
	})
	if w := readyz(bound); len(w) != 0 {
		t.Fatalf("readyz warnings with a site claim = %q", w)
	}
	if w := readyz(startGateway(t, nil)); len(w) != 0 {
		t.Fatalf("readyz warnings for one site = %q", w)
	}
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// With NOTIFYD_ADMIN_ADDR, metrics, health and pprof are on the admin
// listener and /metrics leaves the public address.
func TestAdminListener(t *testing.T) {
	g := startGateway(t, map[string]string{"NOTIFYD_ADMIN_ADDR": "127.0.0.1:0"})
	var admin string
	for _, line := range strings.Split(g.logs.String(), "\n") {
		var entry struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "admin listener serving" {
			admin = "http://" + entry.Addr
		}
	}
	if admin == "" {
		t.Fatalf("no admin listener in the log:\n%s", g.logs.String())
	}
	if code := get(t, g.url("/metrics"), "").StatusCode; code != http.StatusNotFound {
		t.Errorf("public /metrics: %d, want 404", code)
	}
	for _, path := range []string{"/metrics", "/readyz", "/healthz", "/debug/pprof/"} {
		if code := get(t, admin+path, "").StatusCode; code != http.StatusOK {
			t.Errorf("admin %s: %d", path, code)
		}
	}
	if !strings.Contains(readBody(t, get(t, admin+"/metrics", "")), "notifyd_ws_connections") {
		t.Error("admin /metrics lacks notifyd_ws_connections")
	}
}
