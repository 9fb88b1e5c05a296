// Package poll is the tests' one way to wait for a condition: poll until it
// holds, fail the test after a generous deadline. Tests never sleep to
// synchronise; the polling interval is not synchronisation.
package poll

import (
	"testing"
	"time"
)

// Timeout is how long Until waits before failing the test.
const Timeout = 15 * time.Second

// Interval is the polling interval.
const Interval = 2 * time.Millisecond

// Until polls cond every Interval until it holds, and fails tb with what
// ("timed out waiting for <what>") after Timeout.
func Until(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.NewTimer(Timeout)
	defer deadline.Stop()
	tick := time.NewTicker(Interval)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			tb.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}
