package webhook

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// maxResponse bounds how much of a receiver's answer body is read (and
// discarded); the rest is left unread and the connection closed.
const maxResponse = 4 << 10

// outcome is what one attempt came to.
type outcome int

const (
	delivered outcome = iota // 2xx
	retry                    // network error, 5xx, 408, 429: try again later
	permanent                // 3xx, 4xx but 408, 410, 429: give up
	gone                     // 410: give up and remove the registration
	refused                  // the address was not public: give up
	cancelled                // Run's context ended during the attempt
)

var outcomeNames = [...]string{"delivered", "retry", "permanent", "gone", "refused", "cancelled"}

func (o outcome) String() string { return outcomeNames[o] }

// handle makes one attempt of j and settles it: acknowledged when
// delivered or given up, moved to the retry set when it should be tried
// again. A worker never waits for a retry. Any Redis failure leaves j
// unacknowledged in this consumer's pending list, to be taken over after
// ClaimIdle.
func (d *Dispatcher) handle(ctx context.Context, j job) {
	d.pending.Add(1)
	defer d.pending.Add(-1)
	if !j.valid {
		d.dropped.Add(1)
		d.ack(ctx, j)
		return
	}
	log := d.cfg.Logger.With("host", j.host, "webhook", j.reg, "delivery", j.delivery)
	now := d.cfg.Now()
	if now.Sub(j.at) > d.cfg.MaxAge {
		d.giveUp(ctx, log, j, "max age passed")
		return
	}
	if until, open := d.breaker.open(j.reg, now); open {
		// The endpoint failed a moment ago: wait with it rather than spend
		// a worker (and up to Timeout) on an attempt bound to fail.
		d.reschedule(ctx, log, j, j.attempts, until.Add(d.jitter()), &d.deferred)
		return
	}
	reg, err := d.store.get(ctx, j.host, j.reg)
	if errors.Is(err, ErrNotFound) {
		d.dropped.Add(1)
		d.ack(ctx, j)
		log.Debug("webhook: registration gone, job dropped")
		return
	}
	if err != nil {
		d.leaveForLater(log, err)
		return
	}
	d.attempts.Add(1)
	out, status, retryAfter := d.post(ctx, reg, j)
	log.Debug("webhook: attempt", "attempt", j.attempts+1, "status", status, "outcome", out.String())
	if out != retry && out != cancelled {
		d.breaker.close(j.reg)
	}
	switch out {
	case delivered:
		d.delivered.Add(1)
		d.ack(ctx, j)
		return
	case cancelled:
		return
	case refused:
		d.failed.Add(1)
		d.refused.Add(1)
		d.giveUp(ctx, log, j, "address not public")
		return
	case gone:
		d.failed.Add(1)
		d.remove(ctx, log, reg)
		d.giveUp(ctx, log, j, "410 Gone")
		return
	case permanent:
		d.failed.Add(1)
		d.giveUp(ctx, log, j, "permanent answer "+strconv.Itoa(status))
		return
	}
	d.failed.Add(1)
	wait := max(d.backoff.Delay(j.attempts), min(retryAfter, d.cfg.BackoffMax))
	due := d.cfg.Now().Add(wait)
	if due.Sub(j.at) > d.cfg.MaxAge {
		d.giveUp(ctx, log, j, "max age passed")
		return
	}
	d.breaker.trip(j.reg, due)
	d.reschedule(ctx, log, j, j.attempts+1, due, &d.retries)
}

// reschedule moves j to the retry set, due at due, even after ctx ended
// (the decision was made), and counts it in done.
func (d *Dispatcher) reschedule(ctx context.Context, log *slog.Logger, j job, attempts int, due time.Time, done *atomic.Int64) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), detachedTimeout)
	defer cancel()
	held, err := retryScript.Run(ctx, d.rdb, []string{d.keys.stream, d.keys.retry},
		group, d.cfg.Consumer, j.id, due.UnixMilli(), j.payload(attempts)).Int()
	switch {
	case err != nil:
		d.leaveForLater(log, err)
	case held == 0:
		d.lost.Add(1)
		log.Debug("webhook: job taken over by another dispatcher")
	default:
		done.Add(1)
	}
}

// jitter is a random wait up to BackoffMin that spreads the jobs deferred
// behind one open breaker.
func (d *Dispatcher) jitter() time.Duration {
	return time.Duration(rand.Int64N(int64(d.cfg.BackoffMin) + 1))
}

// leaveForLater logs a Redis failure that leaves a job for a takeover.
func (d *Dispatcher) leaveForLater(log *slog.Logger, err error) {
	d.warn.WarnOrDebug(log, "redis", "webhook: job left for a takeover after a Redis failure", "err", err)
}

// remove deletes a registration whose URL answered 410 Gone, even after
// ctx ended: the answer was received.
func (d *Dispatcher) remove(ctx context.Context, log *slog.Logger, reg Registration) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), detachedTimeout)
	defer cancel()
	if err := d.store.Delete(ctx, reg.Host, reg.Owner, reg.ID); err != nil {
		log.Debug("webhook: remove registration after 410 Gone", "err", err)
		return
	}
	d.removed.Add(1)
	log.Info("webhook: registration removed after 410 Gone", "owner", reg.Owner)
}

func (d *Dispatcher) giveUp(ctx context.Context, log *slog.Logger, j job, why string) {
	d.gaveUp.Add(1)
	d.ack(ctx, j)
	d.warn.WarnOrDebug(log, "giveup:"+j.host, "webhook: delivery given up", "reason", why)
}

// post makes one attempt: it returns its outcome, the HTTP status (0
// without an answer) and the answer's Retry-After (0 without one).
func (d *Dispatcher) post(ctx context.Context, reg Registration, j job) (outcome, int, time.Duration) {
	actx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, reg.URL, bytes.NewReader(j.body))
	if err != nil {
		return permanent, 0, 0
	}
	ts := strconv.FormatInt(d.cfg.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set(HeaderEvent, EventMessage)
	req.Header.Set(HeaderDelivery, j.delivery)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(reg.Secret, ts, j.body))
	resp, err := d.client.Do(req)
	if err != nil {
		switch {
		case errors.Is(err, errRefusedAddress):
			return refused, 0, 0
		case ctx.Err() != nil:
			return cancelled, 0, 0
		}
		return retry, 0, 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		return delivered, code, 0
	case code == http.StatusGone:
		return gone, code, 0
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		return retry, code, retryAfter(resp.Header.Get("Retry-After"), d.cfg.Now())
	}
	return permanent, code, 0
}

// retryAfter parses a Retry-After value: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(min(s, 1<<20)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
