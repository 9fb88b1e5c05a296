// Package lograte keeps floods out of the logs: at most one Warn per key per
// interval, with the number of suppressed lines reported on the next one.
// Used for bad payloads, outages, slow consumers and refused tokens.
//
// A Limiter is safe for concurrent use. It starts no goroutine.
package lograte

import (
	"log/slog"
	"sync"
	"time"
)

// Limiter lets through one Warn per key per interval.
type Limiter struct {
	// immutable after New
	interval time.Duration
	now      func() time.Time

	mu         sync.Mutex // guards the maps
	last       map[string]time.Time
	suppressed map[string]int
}

// New returns a limiter; now is the clock (nil: time.Now).
func New(interval time.Duration, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{interval: interval, now: now, last: make(map[string]time.Time), suppressed: make(map[string]int)}
}

// Allow reports whether a Warn for key may be written now, and how many were
// suppressed since the last one that was.
func (l *Limiter) Allow(key string) (ok bool, suppressed int) {
	now := l.now()
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

// Warn logs msg at Warn level unless key was logged within the interval; a
// suppressed line is dropped.
func (l *Limiter) Warn(log *slog.Logger, key, msg string, args ...any) {
	l.log(log, key, false, msg, args)
}

// WarnOrDebug logs msg at Warn level at most once per interval for key and
// at Debug level otherwise, so that nothing is lost at debug level.
func (l *Limiter) WarnOrDebug(log *slog.Logger, key, msg string, args ...any) {
	l.log(log, key, true, msg, args)
}

func (l *Limiter) log(log *slog.Logger, key string, debugWhenSuppressed bool, msg string, args []any) {
	ok, suppressed := l.Allow(key)
	switch {
	case ok && suppressed > 0:
		log.Warn(msg, append(args, "suppressed", suppressed)...)
	case ok:
		log.Warn(msg, args...)
	case debugWhenSuppressed:
		log.Debug(msg, args...)
	}
}
