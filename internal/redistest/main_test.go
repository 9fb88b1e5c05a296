package redistest

import (
	"testing"

	"github.com/notifyd/notifyd/internal/leaktest"
)

func TestMain(m *testing.M) { leaktest.Main(m) }
