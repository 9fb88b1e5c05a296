package main

import (
	"context"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/internal/poll"
)

func TestListenPrintsNotifications(t *testing.T) {
	g := startGateway(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"listen", "-url", "ws://" + g.addr + "/ws/chat", "-origin", testSite, "-sub", "users:bob"},
			env(map[string]string{"NOTIFYD_JWT_SECRET": testSecret}), out, errOut)
	}()
	waitSessions(t, g, 1)
	id := publishTo(t, g, "hello listener", "users:bob")
	poll.Until(t, "condition", func() bool { return strings.Contains(out.String(), id) })
	if !strings.Contains(out.String(), `"title":"hello listener"`) || strings.Contains(out.String(), `"target"`) {
		t.Fatalf("listen printed %q", out.String())
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("listen exited %d: %s", code, errOut.String())
	}
}

func TestListenNeedsAToken(t *testing.T) {
	t.Parallel()
	if code := run(t.Context(), []string{"listen"}, env(nil), &syncBuffer{}, &syncBuffer{}); code == 0 {
		t.Fatal("listen without token or secret exited 0")
	}
}
