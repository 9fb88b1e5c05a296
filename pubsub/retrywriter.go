package pubsub

import (
	"context"
	"time"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/backoff"
)

// retryWriter is the state of the history retry writer goroutine, the
// retry path of history writes: it stores, later and in order, the entries
// the dispatcher could not store before delivering them.
type retryWriter struct {
	// immutable after newRetryWriter
	store   entryStore
	pending *pendingSites // shared with the dispatcher; safe for concurrent use
	rep     *reporter

	// owned by the writer goroutine
	retry *retryQueues    // entries of sites whose writes fail, oldest first per site
	bo    backoff.Backoff // delay between rounds that store nothing
	timer *time.Timer     // fires for the next round while armed
	armed bool
	batch []history.Entry // scratch, reused by every round
}

// newRetryWriter returns a writer storing into store; each site keeps at
// most perSite entries waiting (the history's length).
func newRetryWriter(cfg SubscriberConfig, store entryStore, perSite int, pending *pendingSites,
	rep *reporter) *retryWriter {
	return &retryWriter{
		store: store, pending: pending, rep: rep,
		retry: newRetryQueues(perSite, cfg.HistoryRetryQueueSize),
		bo:    cfg.newBackoff(),
		timer: stoppedTimer(),
		batch: make([]history.Entry, 0, cfg.HistoryBatch),
	}
}

// run stores the entries the dispatcher hands over, until in is closed
// and every entry it holds is stored, or ctx ends. The dispatcher stores
// each batch itself before delivering it; it hands over the entries whose
// write failed with a retryable error or timed out, and the later entries of
// their sites (counted in pending until settled here), in its order.
//
// Each entry goes to its site's retry queue. The queues are stored in rounds
// of one round trip (retryRound); a round that stores nothing is followed by
// a jittered exponential backoff, one for all sites, so that a dead shard
// costs one round trip per delay however many of its sites wait. The loop
// waits on new entries and the retry timer at once.
func (w *retryWriter) run(ctx context.Context, in <-chan history.Entry) {
	defer w.timer.Stop()
	for in != nil || w.retry.size() > 0 {
		select {
		case e, ok := <-in:
			if !ok {
				in = nil
				continue
			}
			w.hold(e)
		case <-w.timer.C:
			w.armed = false
			w.retryRound(ctx)
		case <-ctx.Done():
			w.abandon(ctx.Err(), in)
			return
		}
	}
}

// hold adds e to its site's retry queue, counting what the bounds discard,
// and makes sure a round is scheduled.
func (w *retryWriter) hold(e history.Entry) {
	if discarded, reason := w.retry.add(e); reason != "" {
		w.pending.done(discarded.Host)
		w.rep.drop(reason, nil, "")
	}
	if !w.armed && w.retry.size() > 0 {
		w.arm(w.bo.Next())
	}
}

// retryRound stores, in one round trip, the oldest entry of each site in the
// retry queues (in rotation, up to HistoryBatch), then more entries of the
// sites whose last attempt succeeded. A round that stored something is
// followed at once by the next; one that stored nothing by a backoff.
func (w *retryWriter) retryRound(ctx context.Context) {
	w.batch = w.retry.take(w.batch[:0], cap(w.batch))
	if len(w.batch) == 0 {
		return // cannot happen: the timer is armed only while entries wait
	}
	added, err := w.store.AppendBatch(ctx, w.batch)
	var retryErr error
	removed := w.retry.settle(func(i int) bool {
		switch err := history.EntryError(err, i); {
		case err == nil:
			w.rep.stored(added[i])
		case history.IsPermanent(err):
			w.rep.drop(DropHistoryRejected, err, "")
		default:
			retryErr = err
			return true
		}
		return false
	}, w.gone)
	clear(w.batch)
	switch {
	case w.retry.size() == 0:
		w.bo.Reset()
	case removed > 0:
		w.arm(0)
	default:
		w.arm(w.bo.Next())
	}
	if retryErr != nil {
		w.warn(retryErr)
	}
}

func (w *retryWriter) arm(d time.Duration) {
	w.timer.Reset(d)
	w.armed = true
}

func (w *retryWriter) warn(err error) {
	w.rep.warn("history", "pubsub: history write failed, retrying",
		"waiting", w.retry.size(), "sites", len(w.retry.order), "err", err)
}

// gone settles an entry the retry queues no longer hold.
func (w *retryWriter) gone(e history.Entry) { w.pending.done(e.Host) }

// abandon drops, once ctx ended, every entry still waiting for a retry and
// every entry handed over until in is closed.
func (w *retryWriter) abandon(err error, in <-chan history.Entry) {
	if n := w.retry.reset(w.gone); n > 0 {
		w.rep.dropN(DropHistoryShutdown, n, err, "")
	}
	if in == nil {
		return
	}
	for e := range in {
		w.gone(e)
		w.rep.drop(DropHistoryShutdown, err, "")
	}
}

// stoppedTimer returns a timer that has not fired and will not until Reset.
func stoppedTimer() *time.Timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}
