package main

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/poll"
)

func TestListenPrintsNotifications(t *testing.T) {
	g := startGateway(t, nil)
	out, errOut, stop := startListen(t, g)
	waitSessions(t, g, 1)
	poll.Until(t, "the connected line", func() bool { return strings.Contains(errOut.String(), "listen: connected to") })
	id := publishTo(t, g, "hello listener", "users:bob")
	poll.Until(t, "condition", func() bool { return strings.Contains(out.String(), id) })
	if !strings.Contains(out.String(), `"title":"hello listener"`) || strings.Contains(out.String(), `"target"`) {
		t.Fatalf("listen printed %q", out.String())
	}
	if code := stop(); code != 0 {
		t.Fatalf("listen exited %d: %s", code, errOut.String())
	}
}

// tail prints the inbox counts too: the badge after each message.
func TestTailPrintsInboxCounts(t *testing.T) {
	g := startGateway(t, nil)
	out, errOut, stop := startListen(t, g)
	waitSessions(t, g, 1)
	poll.Until(t, "the connected line", func() bool { return strings.Contains(errOut.String(), "listen: connected to") })
	publishTo(t, g, "counted", "users:bob")
	poll.Until(t, "the badge line", func() bool { return strings.Contains(out.String(), `{"action":"inbox","unread":1,"unseen":1}`) })
	if code := stop(); code != 0 {
		t.Fatalf("tail exited %d: %s", code, errOut.String())
	}
}

func TestListenNeedsAToken(t *testing.T) {
	t.Parallel()
	if code := run(t.Context(), []string{"listen"}, env(nil), &syncBuffer{}, &syncBuffer{}); code == 0 {
		t.Fatal("listen without token or secret exited 0")
	}
}

// listen -sub mints a new token when the gateway refuses the one it has: after
// a revocation it gets back in with a token issued later.
func TestListenMintsAFreshTokenAfterRevocation(t *testing.T) {
	g := startGateway(t, map[string]string{"NOTIFYD_JWT_LEEWAY": "-1s"})
	out, errOut, stop := startListen(t, g)
	waitSessions(t, g, 1)
	// Connected means a PONG came back (client.Config.OnConnect): wait for
	// it, or the revocation may cut the connection before it counts.
	poll.Until(t, "the first connected line", func() bool { return strings.Contains(errOut.String(), "listen: connected to") })
	if code, _ := post(t, g.url("/api/admin/disconnect"), publisherToken, `{"principal":"users:bob"}`); code != 200 {
		t.Fatalf("disconnect: %d", code)
	}
	// The revoked token is refused until a token issued in a later second
	// (iat has whole seconds) is minted; listen keeps trying with fresh ones.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("listen stderr:\n%s", errOut.String())
			t.Logf("gateway log:\n%s", g.logs.String())
		}
	})
	// The client's full-jitter backoff grows with each refused token (up to
	// 10 s), so on a loaded machine this can take longer than poll.Timeout.
	deadline := time.Now().Add(45 * time.Second)
	for strings.Count(errOut.String(), "listen: connected to") < 2 {
		if time.Now().After(deadline) {
			t.Fatal("listen did not reconnect with a fresh token")
		}
		time.Sleep(poll.Interval) // polling interval, not synchronisation
	}
	id := publishTo(t, g, "after revocation", "users:bob")
	poll.Until(t, "the message after the revocation", func() bool { return strings.Contains(out.String(), id) })
	if code := stop(); code != 0 {
		t.Fatalf("listen exited %d: %s", code, errOut.String())
	}
}

// startListen runs `notifyd listen -sub users:bob` against g; stop ends it
// and returns its exit code.
func startListen(t *testing.T, g *gateway) (out, errOut *syncBuffer, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut = &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"tail", "-url", "ws://" + g.addr + "/ws/chat", "-origin", testSite, "-sub", "users:bob"},
			env(map[string]string{"NOTIFYD_JWT_SECRET": testSecret}), out, errOut)
	}()
	var once sync.Once
	code := 0
	stop = func() int {
		once.Do(func() { cancel(); code = <-done })
		return code
	}
	t.Cleanup(func() { stop() })
	return out, errOut, stop
}
