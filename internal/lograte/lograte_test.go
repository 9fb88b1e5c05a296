package lograte

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	l := New(time.Second, func() time.Time { return now })
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	l.Warn(log, "a", "first")
	l.Warn(log, "a", "dropped")
	l.WarnOrDebug(log, "a", "as debug")
	l.Warn(log, "b", "other key")
	now = now.Add(time.Second)
	l.Warn(log, "a", "again")
	out := buf.String()
	for _, want := range []string{"level=WARN msg=first", "level=DEBUG msg=\"as debug\"", "level=WARN msg=\"other key\"", "level=WARN msg=again suppressed=2"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "dropped") {
		t.Errorf("suppressed Warn was logged:\n%s", out)
	}
}
