package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/internal/redistest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// requireRedis fails without redis-server, like the other integration
// tests (internal/redistest.Binary).
func requireRedis(t *testing.T) {
	t.Helper()
	redistest.Binary(t)
}

// TestQuickChaos runs the CI-sized chaos run over the cheap faults (no
// restarts of Redis or gateways) and fails on any loss, duplicate or fault
// check that the guarantees rule out.
func TestQuickChaos(t *testing.T) {
	requireRedis(t)
	if testing.Short() {
		t.Skip("builds notifyd and runs real processes")
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-quick", "-race",
		"-faults", strings.Join(quickFaults, ",")}, &stdout, &stderr)
	t.Logf("\n%s", stdout.String())
	if code != 0 {
		t.Fatalf("notifyd-chaos -quick exited %d\nstderr:\n%s", code, stderr.String())
	}
	for _, f := range quickFaults {
		if !strings.Contains(stdout.String(), "| "+f+" |") {
			t.Errorf("no table row for %s", f)
		}
	}
	if !strings.Contains(stdout.String(), fmt.Sprintf("%d/%d phases passed", len(quickFaults), len(quickFaults))) {
		t.Errorf("summary line missing or wrong:\n%s", stdout.String())
	}
}

func TestParseOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		wantErr bool
		check   func(o options) bool
	}{
		{"defaults", nil, false, func(o options) bool {
			return o.clients == 200 && o.rate == 200 && len(o.faults) == len(allFaults())
		}},
		{"quick", []string{"-quick"}, false, func(o options) bool {
			return o.clients == 20 && len(o.faults) == len(quickFaults)
		}},
		{"quick keeps explicit flags", []string{"-quick", "-clients", "7", "-faults", "sigkill"}, false, func(o options) bool {
			return o.clients == 7 && len(o.faults) == 1 && o.faults[0] == "sigkill"
		}},
		{"too few clients", []string{"-clients", "1"}, true, nil},
		{"unbounded timeout", []string{"-timeout", "0s"}, true, nil},
		{"stray argument", []string{"now"}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o, err := parseOptions(tt.args, &bytes.Buffer{})
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, want error %v", err, tt.wantErr)
			}
			if tt.check != nil && !tt.check(o) {
				t.Fatalf("options %+v", o)
			}
		})
	}
}

func TestSelectFaults(t *testing.T) {
	t.Parallel()
	got, err := selectFaults([]string{faultRevoke, faultBaseline})
	if err != nil || len(got) != 2 || got[0].name != faultBaseline || got[1].name != faultRevoke {
		t.Fatalf("selectFaults: %v, %v: want baseline then revoke (run order)", got, err)
	}
	if _, err := selectFaults([]string{"meteor"}); err == nil {
		t.Fatal("unknown fault accepted")
	}
}
