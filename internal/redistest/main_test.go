package redistest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// Dial failures are expected in fault tests; go-redis would log each.
	redis.SetLogger(quietLogger{})
	code := m.Run()
	if code == 0 {
		if err := findLeaks(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// findLeaks is goleak.Find with more patience than goleak.VerifyTestMain:
// after a client is closed, go-redis's pool goroutine that probes a dead
// server (pool.(*ConnPool).tryDial) sleeps up to a second before it notices
// and exits.
func findLeaks() error {
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		err := goleak.Find()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		<-tick.C
	}
}

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

// quietLogger discards go-redis's internal logs (dial failures are expected
// in fault tests and would bury the test output).
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}
