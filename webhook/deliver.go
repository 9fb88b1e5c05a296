package webhook

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/notifyd/notifyd/internal/backoff"
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

// handle delivers j: attempts, waits and retries until it is delivered,
// given up, taken over by another dispatcher or ctx ends. Any Redis failure
// leaves j unacknowledged in this consumer's pending list, to be taken over
// after ClaimIdle.
func (d *Dispatcher) handle(ctx context.Context, j job) {
	d.pending.Add(1)
	defer d.pending.Add(-1)
	if !j.valid {
		d.dropped.Add(1)
		d.ack(ctx, j)
		return
	}
	log := d.cfg.Logger.With("host", j.host, "webhook", j.reg, "delivery", j.id)
	b := backoff.Backoff{Min: d.cfg.BackoffMin, Max: d.cfg.BackoffMax, Jitter: backoff.Equal}
	for attempt := 1; ; attempt++ {
		if d.cfg.Now().Sub(j.at) > d.cfg.MaxAge {
			d.giveUp(ctx, log, j, "max age passed")
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
		log.Debug("webhook: attempt", "attempt", attempt, "status", status, "outcome", out.String())
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
		wait := max(b.Next(), min(retryAfter, d.cfg.BackoffMax))
		if d.cfg.Now().Add(wait).Sub(j.at) > d.cfg.MaxAge {
			d.giveUp(ctx, log, j, "max age passed")
			return
		}
		if !d.stillHeld(ctx, log, j) || !backoff.Sleep(ctx, wait) || !d.stillHeld(ctx, log, j) {
			return
		}
	}
}

// stillHeld refreshes the claim on j before a wait and before an attempt,
// and reports whether this dispatcher may go on with it.
func (d *Dispatcher) stillHeld(ctx context.Context, log *slog.Logger, j job) bool {
	held, err := d.refresh(ctx, j)
	switch {
	case err != nil:
		d.leaveForLater(log, err)
		return false
	case !held:
		d.lost.Add(1)
		log.Debug("webhook: job taken over by another dispatcher")
		return false
	}
	return true
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
	req.Header.Set(HeaderDelivery, j.id)
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
