package pubsub

import (
	"log/slog"
	"sync"
	"time"
)

// logLimiter lets through at most one log per key per interval and reports
// how many were suppressed in between, so that a flood of bad payloads or a
// long outage produces a few Warn lines, not millions. Safe for concurrent use.
type logLimiter struct {
	interval time.Duration // immutable

	mu         sync.Mutex // guards the maps
	last       map[string]time.Time
	suppressed map[string]int
}

func newLogLimiter(interval time.Duration) *logLimiter {
	return &logLimiter{interval: interval, last: make(map[string]time.Time), suppressed: make(map[string]int)}
}

// allow reports whether a log for key may be written now, and how many logs
// for key were suppressed since the last one that was.
func (l *logLimiter) allow(key string) (ok bool, suppressed int) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if last, seen := l.last[key]; seen && now.Sub(last) < l.interval {
		l.suppressed[key]++
		return false, 0
	}
	l.last[key] = now
	suppressed = l.suppressed[key]
	l.suppressed[key] = 0
	return true, suppressed
}

// warn logs msg at Warn level unless key was logged within the interval.
func (l *logLimiter) warn(log *slog.Logger, key, msg string, args ...any) {
	ok, suppressed := l.allow(key)
	if !ok {
		return
	}
	if suppressed > 0 {
		args = append(args, "suppressed", suppressed)
	}
	log.Warn(msg, args...)
}

// truncate returns at most n bytes of s for a log line, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
