// Package leaktest is the goroutine-leak check of packages whose tests kill
// Redis servers: goleak with the patience go-redis needs. After a client is
// closed, its pool goroutine that probes a dead server
// (pool.(*ConnPool).tryDial) sleeps up to a second before it notices and
// exits, which goleak.VerifyTestMain does not wait for.
package leaktest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// Main runs the tests with go-redis's internal logs silenced (dial failures
// are expected in fault tests), then fails the run if goroutines are still
// alive after a few seconds. Call it from TestMain and nothing else.
func Main(m *testing.M) {
	redis.SetLogger(quiet{})
	code := m.Run()
	if code == 0 {
		if err := Find(5 * time.Second); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// Find is goleak.Find retried until it finds nothing or patience runs out.
func Find(patience time.Duration) error {
	deadline := time.Now().Add(patience)
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

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}
