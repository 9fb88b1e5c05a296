package pubsub

import (
	"log/slog"

	"github.com/notifyd/notifyd/internal/lograte"
)

// logPayloadBytes is how much of a dropped payload a log line shows.
const logPayloadBytes = 200

// reporter is where the subscriber's goroutines count and log what happens:
// the counters behind Stats, and the logger with its Warn rate limiter.
// Immutable after newReporter; safe for concurrent use.
type reporter struct {
	stats   *counters
	log     *slog.Logger
	limiter *lograte.Limiter
}

// warn logs at Warn level, at most once per key and period.
func (r *reporter) warn(key, msg string, args ...any) {
	r.limiter.Warn(r.log, key, msg, args...)
}

// drop counts one dropped message and logs it, rate-limited per reason.
// payload may be empty; only its first bytes are logged.
func (r *reporter) drop(reason DropReason, err error, payload string) {
	r.dropN(reason, 1, err, payload)
}

func (r *reporter) dropN(reason DropReason, n int, err error, payload string) {
	r.stats.dropped[reason].Add(uint64(n))
	args := []any{"reason", string(reason), "count", n}
	if err != nil {
		args = append(args, "err", err)
	}
	if payload != "" {
		args = append(args, "bytes", len(payload), "payload", truncate(payload, logPayloadBytes))
	}
	r.warn(string(reason), "pubsub: message dropped", args...)
}

// stored counts one history write: stored by this call, or found already
// stored.
func (r *reporter) stored(added bool) {
	if added {
		r.stats.written.Add(1)
	} else {
		r.stats.duplicates.Add(1)
	}
}

// truncate returns at most n bytes of s for a log line, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
