package webhook_test

import (
	"testing"

	"github.com/notifyd/notifyd/internal/leaktest"
)

// TestMain fails the run if a goroutine outlives the tests: every Run must
// have stopped all it started once it returned.
func TestMain(m *testing.M) { leaktest.Main(m) }
