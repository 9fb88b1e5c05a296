package pubsub

import (
	"context"
	"errors"
	"time"

	"github.com/notifyd/notifyd/message"
)

// entryStore is what the history writer stores entries into: the History,
// or, in tests, a fake that fails the sites it is told to.
type entryStore interface {
	AppendBatch(ctx context.Context, entries []Entry) (added []bool, err error)
}

var _ entryStore = (*History)(nil)

// historyWriter is the state of the history writer goroutine (writeLoop).
type historyWriter struct {
	s     *Subscriber
	retry *retryQueues // entries of sites whose writes fail, oldest first per site
	bo    backoff      // delay between rounds that store nothing
	timer *time.Timer  // fires for the next round while armed
	armed bool
	batch []Entry // scratch, reused by every write
}

// writeLoop stores the entries the dispatcher queues, until in is closed and
// every entry waiting for a retry is stored, or ctx ends.
//
// Entries are stored in batches of up to HistoryBatch, one round trip each.
// An entry that fails with a retryable error goes to its site's retry queue,
// and so does every later entry of that site, so that a site's entries are
// stored in dispatch order; the entries of other sites go on being stored.
// The retry queues are stored in rounds (retryRound); a round that stores
// nothing is followed by a jittered exponential backoff, one for all sites,
// so that a dead shard costs one round trip per delay however many of its
// sites wait. The loop waits on new entries and the retry timer at once.
func (s *Subscriber) writeLoop(ctx context.Context, in <-chan Entry) {
	w := &historyWriter{
		s:     s,
		retry: newRetryQueues(s.retryPerSite, s.cfg.HistoryRetryQueueSize),
		bo:    backoff{min: s.cfg.BackoffMin, max: s.cfg.BackoffMax},
		timer: time.NewTimer(time.Hour),
		batch: make([]Entry, 0, s.cfg.HistoryBatch),
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
			w.write(ctx, e, in)
		case <-w.timer.C:
			w.armed = false
			w.retryRound(ctx)
		case <-ctx.Done():
			w.abandon(ctx.Err(), in)
			return
		}
	}
}

// write stores e and whatever else is queued, up to HistoryBatch entries.
// Entries of sites with entries waiting for a retry join their queue instead.
func (w *historyWriter) write(ctx context.Context, e Entry, in <-chan Entry) {
	w.batch = w.batch[:0]
	w.admit(e)
fill:
	for n := 1; n < cap(w.batch); n++ {
		select {
		case e, ok := <-in:
			if !ok {
				break fill // the loop sees the closed channel next
			}
			w.admit(e)
		default:
			break fill
		}
	}
	defer clear(w.batch) // let the stored bytes be collected
	if len(w.batch) == 0 {
		return
	}
	added, err := w.s.store.AppendBatch(ctx, w.batch)
	var retryErr error
	for i, e := range w.batch {
		switch err := entryErr(err, i); {
		case err == nil:
			w.s.countStored(added[i])
		case permanent(err):
			w.s.drop(DropHistoryRejected, err, "")
		default:
			w.hold(e)
			retryErr = err
		}
	}
	if retryErr != nil {
		w.warn(retryErr)
	}
}

// admit adds e to the batch being written, or to its site's retry queue when
// the site has entries waiting: e must not overtake them.
func (w *historyWriter) admit(e Entry) {
	if w.retry.has(e.Host) {
		w.hold(e)
		return
	}
	w.batch = append(w.batch, e)
}

// hold adds e to its site's retry queue, counting what the bounds discard,
// and makes sure a round is scheduled.
func (w *historyWriter) hold(e Entry) {
	if _, reason := w.retry.add(e); reason != "" {
		w.s.drop(reason, nil, "")
	}
	w.s.stats.pending.Store(uint64(w.retry.size()))
	if !w.armed && w.retry.size() > 0 {
		w.arm(w.bo.next())
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
		switch err := entryErr(err, i); {
		case err == nil:
			w.s.countStored(added[i])
		case permanent(err):
			w.s.drop(DropHistoryRejected, err, "")
		default:
			retryErr = err
			return true
		}
		return false
	})
	clear(w.batch)
	w.s.stats.pending.Store(uint64(w.retry.size()))
	switch {
	case w.retry.size() == 0:
		w.bo.reset()
	case removed > 0:
		w.arm(0)
	default:
		w.arm(w.bo.next())
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
	w.s.limiter.warn(w.s.log, "history", "pubsub: history write failed, retrying",
		"waiting", w.retry.size(), "sites", len(w.retry.order), "err", err)
}

// abandon drops, once ctx ended, every entry still waiting for a retry and
// every entry queued until in is closed.
func (w *historyWriter) abandon(err error, in <-chan Entry) {
	if n := w.retry.reset(); n > 0 {
		w.s.dropN(DropHistoryShutdown, n, err, "")
	}
	w.s.stats.pending.Store(0)
	if in == nil {
		return
	}
	for range in {
		w.s.drop(DropHistoryShutdown, err, "")
	}
}

// entryErr returns the error of entry i of a batch whose AppendBatch
// returned err.
func entryErr(err error, i int) error {
	var be *BatchError
	if errors.As(err, &be) {
		return be.Errs[i]
	}
	return err
}

func (s *Subscriber) countStored(added bool) {
	if added {
		s.stats.written.Add(1)
	} else {
		s.stats.duplicates.Add(1)
	}
}

// permanent reports whether retrying a history write that failed with err
// cannot help.
func permanent(err error) bool {
	return errors.Is(err, message.ErrInvalid) || isPermanent(err)
}
