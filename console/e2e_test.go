package console

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/internal/redistest"
)

var (
	screenshotPath = flag.String("console.screenshot", "",
		"also write the console's screenshot (PNG, 1280x800, light) to this path (relative to the console directory)")
	screenshotDir = flag.String("console.shots", "",
		"also copy every screenshot of the browser test (feed, space, admin, sign-in, dark) into this directory")
)

const (
	e2eSecret    = "console-e2e-secret-0123456789abcdef0123"
	e2ePublisher = "console-e2e-publisher-token"
	chromiumPath = "/usr/bin/chromium"
	installHint  = "the console's browser test needs Debian's chromium and playwright-core: " +
		"apt-get install -y chromium nodejs npm && (cd console/e2e && npm ci)"
)

// TestConsoleEndToEnd opens the console in headless Chromium against a real
// notifyd: bob signs in, a notification published over HTTP appears, he
// marks it read and the badge drops; he and alice chat in a space (send,
// react, typing); the admin view publishes and shows the gateway's figures;
// a page that cannot open websockets falls back to server-sent events.
// Until the daemon mounts /console itself, a proxy serves the console and
// forwards everything else to the daemon, on one origin as the real mount.
func TestConsoleEndToEnd(t *testing.T) {
	node := requireBrowser(t)
	daemon := startDaemon(t)
	proxy := sameOrigin(t, daemon)
	site := proxy.URL

	bob := mint(t, "users:bob", "Bob Martin", "role:reviewer")
	alice := mint(t, "users:alice", "Alice Chen")
	seed(t, site, bob, alice)

	shots := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "console.e2e.mjs")
	cmd.Dir = "e2e"
	cmd.Env = append(os.Environ(),
		"CONSOLE_URL="+site+"/console/",
		"CONSOLE_SITE="+site,
		"CONSOLE_USER_TOKEN="+bob,
		"CONSOLE_OTHER_TOKEN="+alice,
		"CONSOLE_PUBLISHER_TOKEN="+e2ePublisher,
		"CONSOLE_SHOTS="+shots,
		"CONSOLE_CHROMIUM="+chromiumPath,
	)
	out, err := cmd.CombinedOutput()
	t.Logf("browser test:\n%s", out)
	if err != nil {
		t.Fatalf("browser test failed: %v\ndaemon log:\n%s", err, daemon.logs())
	}
	for _, name := range []string{"console.png", "console-space.png", "console-admin.png", "console-signin.png", "console-dark.png"} {
		b, err := os.ReadFile(filepath.Join(shots, name))
		if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
			t.Fatalf("screenshot %s: %v (%d bytes)", name, err, len(b))
		}
		if *screenshotDir != "" {
			if err := os.WriteFile(filepath.Join(*screenshotDir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if name == "console.png" && *screenshotPath != "" {
			if err := os.WriteFile(*screenshotPath, b, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot written to %s", *screenshotPath)
		}
	}
	t.Logf("screenshots in %s", shots)
}

// requireBrowser returns node's path once node, Debian's chromium and
// playwright-core are all there. When one is missing the test fails with how
// to install it, unless NOTIFYD_SKIP_INTEGRATION=1 outside CI (the
// repository's convention for the integration tests): then it is skipped.
func requireBrowser(t *testing.T) string {
	t.Helper()
	missing := func(what string, err error) {
		if os.Getenv(redistest.SkipEnv) == "1" && os.Getenv("CI") == "" {
			t.Skipf("%s missing (%v) and %s=1: browser test skipped", what, err, redistest.SkipEnv)
		}
		t.Fatalf("%s missing (%v): %s", what, err, installHint)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node", err)
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		missing(chromiumPath, err)
	}
	if _, err := os.Stat(filepath.Join("e2e", "node_modules", "playwright-core", "package.json")); err != nil {
		// The README's test command is go test alone: install the locked
		// development dependency when it is not there yet.
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = "e2e"
		if out, err := cmd.CombinedOutput(); err != nil {
			missing("playwright-core in console/e2e/node_modules (npm ci: "+string(out)+")", err)
		}
	}
	return node
}

type daemon struct {
	url string
	log string // the file with its output
}

// logs returns the daemon's output so far.
func (d *daemon) logs() string {
	b, _ := os.ReadFile(d.log)
	return string(b)
}

// startDaemon builds ./cmd/notifyd and runs it on a free loopback port with
// its embedded Redis; it is stopped with SIGTERM at cleanup.
func startDaemon(t *testing.T) *daemon {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "notifyd")
	build := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, "github.com/notifyd/notifyd/cmd/notifyd")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/notifyd: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	d := &daemon{url: "http://" + addr, log: filepath.Join(dir, "notifyd.log")}
	logFile, err := os.Create(d.log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logFile.Close() })
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"NOTIFYD_ADDR="+addr,
		"NOTIFYD_EMBEDDED_REDIS_ADDR=127.0.0.1:0",
		"NOTIFYD_JWT_SECRET="+e2eSecret,
		"NOTIFYD_PUBLISH_TOKENS="+e2ePublisher,
		"NOTIFYD_SHUTDOWN_SPREAD=50ms",
		"NOTIFYD_LOG_LEVEL=info",
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	poll.Until(t, "notifyd ready", func() bool {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("notifyd exited: %v\n%s", err, d.logs())
		default:
		}
		resp, err := http.Get(d.url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return d
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// sameOrigin serves /console/ from Handler and proxies every other path
// (REST, /ws/chat, /monitor, /metrics) to the daemon, keeping the Host
// header so the daemon sees same-origin browsers, as with the real mount.
func sameOrigin(t *testing.T, d *daemon) *httptest.Server {
	t.Helper()
	target, err := url.Parse(d.url)
	if err != nil {
		t.Fatal(err)
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host
		},
	}
	console := Handler(Config{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == DefaultPrefix || strings.HasPrefix(r.URL.Path, DefaultPrefix+"/") {
			console.ServeHTTP(w, r)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func mint(t *testing.T, sub, name string, principals ...string) string {
	t.Helper()
	tok, err := auth.Mint([]byte(e2eSecret), sub, name, principals, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// call makes one JSON request to the site and decodes the answer into out.
func call(t *testing.T, method, url, token string, body any, want int, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", method, url, resp.StatusCode, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
	}
}

// seed gives bob a few notifications (one read) and two spaces with alice.
func seed(t *testing.T, site, bob, alice string) {
	t.Helper()
	q := "?host=" + url.QueryEscape(site)
	notify := func(title, msg, status, category, source, sourceTitle string, ts time.Time) string {
		var ok struct{ ID string }
		call(t, http.MethodPost, site+"/api/chat/messages", e2ePublisher, map[string]any{
			"host": site, "action": "notify", "category": category, "status": status,
			"title": title, "message": msg, "url": "/reviews/12",
			"source":    map[string]string{"id": source, "title": sourceTitle},
			"target":    map[string]any{"principals": []string{"role:reviewer"}},
			"timestamp": ts.UTC().Format("2006-01-02T15:04:05.000000+00:00"),
		}, http.StatusAccepted, &ok)
		return ok.ID
	}
	now := time.Now()
	read := notify("Weekly usage report is ready", "2,184 active users this week, up 6 %.", "info", "reports.weekly",
		"bots:reports", "Reports", now.Add(-50*time.Minute))
	notify("Review requested: onboarding copy", "Alice asked you to review the new onboarding screens before Thursday.",
		"warning", "content.review", "users:alice", "Alice Chen", now.Add(-12*time.Minute))
	notify("Certificate renews in 7 days", "notify.example.com: renewal is automatic; nothing to do unless it fails.",
		"info", "ops.tls", "bots:certs", "Certificates", now.Add(-3*time.Minute))
	call(t, http.MethodPost, site+"/api/inbox/read"+q, bob, map[string]any{"ids": []string{read}}, http.StatusOK, nil)

	var design, release struct{ ID string }
	call(t, http.MethodPost, site+"/api/spaces"+q, alice,
		map[string]any{"title": "Release 2.4", "members": []string{"users:bob"}, "kind": "group"}, http.StatusCreated, &release)
	call(t, http.MethodPost, site+"/api/spaces/"+release.ID+"/messages"+q, alice,
		map[string]any{"kind": "chat", "body": "Release notes are drafted, please add the console."}, http.StatusCreated, nil)
	call(t, http.MethodPost, site+"/api/spaces"+q, alice,
		map[string]any{"title": "Design review", "members": []string{"users:bob"}, "kind": "group"}, http.StatusCreated, &design)
	for _, body := range []string{
		"Morning! I pushed the first pass of the new onboarding to staging.",
		"Three screens instead of five, and the empty states are new. Could you have a look today?",
	} {
		call(t, http.MethodPost, site+"/api/spaces/"+design.ID+"/messages"+q, alice,
			map[string]any{"kind": "chat", "body": body}, http.StatusCreated, nil)
	}
}
