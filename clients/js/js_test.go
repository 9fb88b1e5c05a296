// Package js_test runs the browser client's tests (Node's test runner, and
// headless Chromium through playwright-core) against a real notifyd: it
// builds cmd/notifyd, starts it with an embedded Redis on free loopback
// ports, serves this directory over HTTP for the browser test, and runs
// `node --test test/*.test.js` with the addresses and secrets in the
// environment. Node must be installed (20.10 or later); the browser test
// needs Debian's chromium and `npm ci` in this directory (.ci/run does
// both). NOTIFYD_SKIP_INTEGRATION=1 skips it knowingly, like the other
// integration tests.
package js_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	testSecret     = "js-test-secret-0123456789abcdef0123456789"
	publisherToken = "js-test-publisher-token"
	testSite       = "http://app.example"
)

func TestNodeClient(t *testing.T) {
	if os.Getenv("NOTIFYD_SKIP_INTEGRATION") == "1" {
		t.Skip("NOTIFYD_SKIP_INTEGRATION=1")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not on PATH: the browser client's tests need Node.js 20.10 or later (Debian: apt-get install nodejs)")
	}
	// The README's test command is go test alone: install the locked
	// development dependency (playwright-core) when it is not there yet.
	if _, err := os.Stat(filepath.Join("node_modules", "playwright-core", "package.json")); err != nil {
		if out, err := exec.Command("npm", "ci", "--no-audit", "--no-fund").CombinedOutput(); err != nil {
			t.Fatalf("npm ci in clients/js: %v\n%s", err, out)
		}
	}
	files, err := filepath.Glob(filepath.Join("test", "*.test.js"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files under test/: %v", err)
	}

	// This directory over HTTP: the page of the browser test imports
	// ../notifyd.js from the same origin, which notifyd allows.
	static := httptest.NewServer(http.FileServer(http.Dir(".")))
	t.Cleanup(static.Close)

	addr := startNotifyd(t, map[string]string{
		"NOTIFYD_ALLOWED_ORIGINS": static.URL,
	})

	args := append(nodeFlags(t, node), "--test", "--test-reporter=spec")
	args = append(args, files...)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Env = append(os.Environ(),
		"NOTIFYD_URL=http://"+addr,
		"NOTIFYD_TEST_SECRET="+testSecret,
		"NOTIFYD_TEST_PUBLISHER="+publisherToken,
		"NOTIFYD_TEST_SITE="+testSite,
		"NOTIFYD_TEST_PAGE_ORIGIN="+static.URL,
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("node --test:\n%s", out)
}

// nodeFlags returns the flags that give node a global WebSocket: none from
// Node 22 on, --experimental-websocket on Node 20.10+ (20.0-20.9 have
// neither: the test fails and says so).
func nodeFlags(t *testing.T, node string) []string {
	t.Helper()
	probe := func(flags ...string) bool {
		out, err := exec.Command(node, append(flags, "-e", "process.stdout.write(typeof WebSocket)")...).Output()
		return err == nil && string(out) == "function"
	}
	if probe() {
		return nil
	}
	if probe("--experimental-websocket") {
		return []string{"--experimental-websocket"}
	}
	v, _ := exec.Command(node, "--version").Output()
	t.Fatalf("node %s has no WebSocket, even with --experimental-websocket: install Node.js 20.10 or later", bytes.TrimSpace(v))
	return nil
}

// startNotifyd builds cmd/notifyd (or takes NOTIFYD_JS_TEST_BINARY), runs it on a free loopback port with an
// embedded Redis and the test settings plus extra, and returns its address
// (read from its "notifyd serving" log line). The process is stopped with
// SIGTERM at the end of the test.
func startNotifyd(t *testing.T, extra map[string]string) string {
	t.Helper()
	bin := os.Getenv("NOTIFYD_JS_TEST_BINARY") // another build of notifyd, to try the client against it
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "notifyd")
		// -race: the daemon is checked too, and its packages are those the
		// race-enabled test run (and the chaos test) already compiled.
		build := exec.Command("go", "build", "-race", "-o", bin, "github.com/notifyd/notifyd/cmd/notifyd")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build cmd/notifyd: %v\n%s", err, out)
		}
	}
	env := map[string]string{
		"NOTIFYD_ADDR":                "127.0.0.1:0",
		"NOTIFYD_EMBEDDED_REDIS_ADDR": "127.0.0.1:0",
		"NOTIFYD_JWT_SECRET":          testSecret,
		"NOTIFYD_PUBLISH_TOKENS":      publisherToken,
		"NOTIFYD_JWT_LEEWAY":          "-1s", // no leeway: the expiry test's token dies on time
		"NOTIFYD_CONNECT_RATE":        "-1",  // every test client connects from 127.0.0.1
		"NOTIFYD_REST_RATE":           "-1",
		"NOTIFYD_SHUTDOWN_SPREAD":     "10ms",
		"NOTIFYD_LOG_LEVEL":           "info",
	}
	for k, v := range extra {
		env[k] = v
	}
	// The log goes to a file that only the reader goroutine writes; the
	// test reads it once that goroutine is done.
	logPath := filepath.Join(t.TempDir(), "notifyd.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	readDone := make(chan struct{})
	cmd := exec.Command(bin)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("start notifyd: %v", err)
	}
	logs := func() string {
		<-readDone
		b, _ := os.ReadFile(logPath)
		return string(b)
	}
	addrc := make(chan string, 1)
	go func() {
		defer close(readDone)
		defer logFile.Close()
		sc := bufio.NewScanner(io.TeeReader(stderr, logFile))
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var line struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "notifyd serving" {
				select {
				case addrc <- line.Addr:
				default:
				}
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		waited := make(chan error, 1)
		go func() { <-readDone; waited <- cmd.Wait() }()
		select {
		case <-waited:
		case <-time.After(20 * time.Second): // a safety net, not a synchronisation
			_ = cmd.Process.Kill()
			<-waited
		}
		if strings.Contains(logs(), "WARNING: DATA RACE") {
			t.Error("notifyd reported a data race")
		}
		if t.Failed() {
			t.Logf("notifyd log:\n%s", logs())
		}
	})
	select {
	case addr := <-addrc:
		return addr
	case <-readDone:
		t.Fatalf("notifyd exited before serving:\n%s", logs())
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("notifyd did not log \"notifyd serving\" within 60 s:\n%s", logs())
	}
	return ""
}
