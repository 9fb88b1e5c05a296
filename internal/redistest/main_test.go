package redistest

import (
	"context"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/leaktest"
)

func TestMain(m *testing.M) { leaktest.Main(m) }

// eventually polls cond until it holds, failing t after a generous deadline.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}
