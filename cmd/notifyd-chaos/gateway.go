package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// gateway is one notifyd process on a fixed loopback port, restarted on the
// same port after a SIGTERM or SIGKILL so that clients' URLs stay valid.
type gateway struct {
	*proc
	index int
	port  int
}

// gatewayEnv is the environment every gateway of a run shares.
type gatewayEnv struct {
	redisURL        string
	secret          string
	publishTokens   []string
	origins         []string // the first is NOTIFYD_DEFAULT_HOST
	historyLength   int
	writeTimeout    time.Duration
	shutdownSpread  time.Duration
	shutdownTimeout time.Duration
	maxConnections  int // per gateway
	maxPerAddr      int // connections per client address (the TCP peer)
}

func newGateway(bin, dir string, index, port int, e gatewayEnv) *gateway {
	vars := map[string]string{
		"NOTIFYD_ADDR":                 net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		"NOTIFYD_REDIS_URL":            e.redisURL,
		"NOTIFYD_JWT_SECRET":           e.secret,
		"NOTIFYD_PUBLISH_TOKENS":       strings.Join(e.publishTokens, ","),
		"NOTIFYD_ALLOWED_ORIGINS":      strings.Join(e.origins, ","),
		"NOTIFYD_DEFAULT_HOST":         e.origins[0],
		"NOTIFYD_NOTIFICATIONS_LENGTH": strconv.Itoa(e.historyLength),
		"NOTIFYD_WRITE_TIMEOUT":        e.writeTimeout.String(),
		"NOTIFYD_SHUTDOWN_SPREAD":      e.shutdownSpread.String(),
		"NOTIFYD_SHUTDOWN_TIMEOUT":     e.shutdownTimeout.String(),
		"NOTIFYD_LOG_LEVEL":            "info",
		// Limits small enough that the attack fault can reach them.
		"NOTIFYD_MAX_CONNECTIONS":          strconv.Itoa(e.maxConnections),
		"NOTIFYD_MAX_CONNECTIONS_PER_ADDR": strconv.Itoa(e.maxPerAddr),
		"NOTIFYD_HTTP_READ_TIMEOUT":        attackReadTimeout.String(),
		// Each chaos client sends its own X-Forwarded-For address, as
		// browsers behind a proxy would appear, so the per-address connect
		// rate limit (kept at its default) applies per client, not to the
		// whole fleet on 127.0.0.1.
		"NOTIFYD_CLIENT_IP_HEADER": "X-Forwarded-For",
	}
	env := []string{}
	for _, kv := range os.Environ() { // PATH, HOME...; never a stray NOTIFYD_* setting
		if !strings.HasPrefix(kv, "NOTIFYD_") {
			env = append(env, kv)
		}
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	name := fmt.Sprintf("gateway%d", index+1)
	return &gateway{
		proc:  newProc(name, bin, nil, env, filepath.Join(dir, name+".log")),
		index: index,
		port:  port,
	}
}

func (g *gateway) base() string  { return "http://127.0.0.1:" + strconv.Itoa(g.port) }
func (g *gateway) wsURL() string { return "ws://127.0.0.1:" + strconv.Itoa(g.port) + "/ws/chat" }

// startAndWait starts notifyd and waits until /readyz answers 200 (it is
// subscribed to Redis).
func (g *gateway) startAndWait(ctx context.Context) error {
	if err := g.start(); err != nil {
		return err
	}
	hc := &http.Client{Timeout: time.Second}
	return poll(ctx, 30*time.Second, func() bool {
		if !g.running() {
			return false
		}
		resp, err := hc.Get(g.base() + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, g.name+" /readyz")
}

// sessions reads the gateway's session count from /monitor.
func (g *gateway) sessions(ctx context.Context, hc *http.Client) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.base()+"/monitor", nil)
	if err != nil {
		return 0, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s /monitor: %w", g.name, err)
	}
	defer resp.Body.Close()
	var m struct {
		Count int `json:"sessions_count"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		return 0, fmt.Errorf("%s /monitor: %w", g.name, err)
	}
	return m.Count, nil
}

// metric returns the value of an unlabelled metric from /metrics.
func (g *gateway) metric(ctx context.Context, hc *http.Client, name string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.base()+"/metrics", nil)
	if err != nil {
		return "", err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v, nil
		}
	}
	return "", fmt.Errorf("%s: no metric %s", g.name, name)
}

// races counts the data races the race detector reported in the log.
func (g *gateway) races() int { return strings.Count(g.logs(), "WARNING: DATA RACE") }

// logs returns the gateway's log file.
func (g *gateway) logs() string {
	b, _ := os.ReadFile(g.logPath)
	return string(b)
}

// buildNotifyd builds ./cmd/notifyd of the module this tool belongs to into
// dir (with the race detector when race) and returns the binary's path.
func buildNotifyd(ctx context.Context, dir string, race bool) (string, error) {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	if root == "." || root == "" {
		return "", fmt.Errorf("not inside the notifyd module: pass -notifyd")
	}
	out := filepath.Join(dir, "notifyd")
	args := []string{"build", "-o", out}
	if race {
		args = append(args, "-race")
	}
	cmd := exec.CommandContext(ctx, "go", append(args, "./cmd/notifyd")...)
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/notifyd: %w\n%s", err, msg)
	}
	return out, nil
}
