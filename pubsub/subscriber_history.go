package pubsub

import (
	"context"
	"errors"

	"github.com/notifyd/notifyd/message"
)

// writeLoop stores entries in batches of up to HistoryBatch, one round trip
// each, until in is closed. A batch that fails is retried with backoff until
// it is stored or ctx ends (the queue before it bounds what waits meanwhile).
func (s *Subscriber) writeLoop(ctx context.Context, in <-chan Entry) {
	bo := backoff{min: s.cfg.BackoffMin, max: s.cfg.BackoffMax}
	batch := make([]Entry, 0, s.cfg.HistoryBatch)
	for e := range in {
		batch = append(batch[:0], e)
	fill:
		for len(batch) < cap(batch) {
			select {
			case e, ok := <-in:
				if !ok {
					break fill
				}
				batch = append(batch, e)
			default:
				break fill
			}
		}
		s.store(ctx, batch, &bo)
		clear(batch) // let the stored bytes be collected
	}
}

// store writes batch, retrying the entries that failed until they are stored
// or ctx ends. Entries Redis refuses for good are dropped.
func (s *Subscriber) store(ctx context.Context, batch []Entry, bo *backoff) {
	for len(batch) > 0 {
		if ctx.Err() != nil {
			s.dropN(DropHistoryShutdown, len(batch), ctx.Err(), "")
			return
		}
		added, err := s.history.AppendBatch(ctx, batch)
		var be *BatchError
		if !errors.As(err, &be) {
			s.countStored(added...)
			bo.reset()
			return
		}
		rest := batch[:0] // filters in place: rest never overtakes the loop
		var retryErr error
		for i, e := range batch {
			switch err := be.Errs[i]; {
			case err == nil:
				s.countStored(added[i])
			case permanent(err):
				s.drop(DropHistoryRejected, err, "")
			default:
				rest, retryErr = append(rest, e), err
			}
		}
		batch = rest
		if len(batch) == 0 {
			bo.reset()
			return
		}
		s.limiter.warn(s.log, "history", "pubsub: history write failed, retrying",
			"entries", len(batch), "err", retryErr)
		if !sleep(ctx, bo.next()) {
			s.dropN(DropHistoryShutdown, len(batch), ctx.Err(), "")
			return
		}
	}
}

func (s *Subscriber) countStored(added ...bool) {
	for _, a := range added {
		if a {
			s.stats.written.Add(1)
		} else {
			s.stats.duplicates.Add(1)
		}
	}
}

// permanent reports whether retrying a history write that failed with err
// cannot help.
func permanent(err error) bool {
	return errors.Is(err, message.ErrInvalid) || isPermanent(err)
}
