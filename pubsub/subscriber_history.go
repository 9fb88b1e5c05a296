package pubsub

import (
	"context"
	"time"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/backoff"
)

// entryStore is what the dispatcher and the retry writer store entries
// into: the History, or, in tests, a fake that fails the sites it is told
// to.
type entryStore interface {
	AppendBatch(ctx context.Context, entries []history.Entry) (added []bool, err error)
}

// historyWriter is the state of the history writer goroutine (writeLoop),
// the retry path of history writes.
type historyWriter struct {
	s     *Subscriber
	retry *retryQueues    // entries of sites whose writes fail, oldest first per site
	bo    backoff.Backoff // delay between rounds that store nothing
	timer *time.Timer     // fires for the next round while armed
	armed bool
	batch []history.Entry // scratch, reused by every round
}

// writeLoop stores the entries the dispatcher hands over, until in is closed
// and every entry it holds is stored, or ctx ends. The dispatcher stores
// each batch itself before delivering it; it hands over the entries whose
// write failed with a retryable error or timed out, and the later entries of
// their sites (counted in s.pending until settled here), in its order.
//
// Each entry goes to its site's retry queue. The queues are stored in rounds
// of one round trip (retryRound); a round that stores nothing is followed by
// a jittered exponential backoff, one for all sites, so that a dead shard
// costs one round trip per delay however many of its sites wait. The loop
// waits on new entries and the retry timer at once.
func (s *Subscriber) writeLoop(ctx context.Context, in <-chan history.Entry) {
	w := &historyWriter{
		s:     s,
		retry: newRetryQueues(s.retryPerSite, s.cfg.HistoryRetryQueueSize),
		bo:    s.cfg.newBackoff(),
		timer: time.NewTimer(time.Hour),
		batch: make([]history.Entry, 0, s.cfg.HistoryBatch),
	}
	w.timer.Stop()
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
func (w *historyWriter) hold(e history.Entry) {
	if discarded, reason := w.retry.add(e); reason != "" {
		w.s.pending.done(discarded.Host)
		w.s.drop(reason, nil, "")
	}
	if !w.armed && w.retry.size() > 0 {
		w.arm(w.bo.Next())
	}
}

// retryRound stores, in one round trip, the oldest entry of each site in the
// retry queues (in rotation, up to HistoryBatch), then more entries of the
// sites whose last attempt succeeded. A round that stored something is
// followed at once by the next; one that stored nothing by a backoff.
func (w *historyWriter) retryRound(ctx context.Context) {
	w.batch = w.retry.take(w.batch[:0], cap(w.batch))
	if len(w.batch) == 0 {
		return // cannot happen: the timer is armed only while entries wait
	}
	added, err := w.s.store.AppendBatch(ctx, w.batch)
	var retryErr error
	removed := w.retry.settle(func(i int) bool {
		switch err := history.EntryError(err, i); {
		case err == nil:
			w.s.countStored(added[i])
		case history.IsPermanent(err):
			w.s.drop(DropHistoryRejected, err, "")
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

func (w *historyWriter) arm(d time.Duration) {
	w.timer.Reset(d)
	w.armed = true
}

func (w *historyWriter) warn(err error) {
	w.s.limiter.Warn(w.s.log, "history", "pubsub: history write failed, retrying",
		"waiting", w.retry.size(), "sites", len(w.retry.order), "err", err)
}

// gone settles an entry the retry queues no longer hold.
func (w *historyWriter) gone(e history.Entry) { w.s.pending.done(e.Host) }

// abandon drops, once ctx ended, every entry still waiting for a retry and
// every entry handed over until in is closed.
func (w *historyWriter) abandon(err error, in <-chan history.Entry) {
	if n := w.retry.reset(w.gone); n > 0 {
		w.s.dropN(DropHistoryShutdown, n, err, "")
	}
	if in == nil {
		return
	}
	for e := range in {
		w.gone(e)
		w.s.drop(DropHistoryShutdown, err, "")
	}
}

func (s *Subscriber) countStored(added bool) {
	if added {
		s.stats.written.Add(1)
	} else {
		s.stats.duplicates.Add(1)
	}
}
