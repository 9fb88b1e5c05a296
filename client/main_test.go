package client

import (
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/leaktest"
)

// TestMain checks that no goroutine outlives the tests, with the patience
// go-redis needs after the stack's clients close (internal/leaktest).
func TestMain(m *testing.M) {
	leaktest.Main(m)
}

// recv returns the next value from ch, failing t after 10 seconds.
func recv[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("nothing received within 10s")
		var zero T
		return zero
	}
}
