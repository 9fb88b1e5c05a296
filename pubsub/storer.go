package pubsub

import (
	"context"

	"github.com/notifyd/notifyd/history"
)

// intakeBatches bounds the prepared batches waiting for the storer: when
// Redis falls that far behind, the dispatcher waits (and the read loop's
// queue grows) instead of holding more.
const intakeBatches = 64

// storeRoundMax is the most batches the storer sends in one round trip:
// what queued while the previous round trip ran, so that under load a
// round trip carries more entries instead of more round trips waiting.
const storeRoundMax = 8

// storer is the state of the intake store goroutine, with a
// DeliveryChannel: it stores, in the order the dispatcher prepared them,
// the batches of intake messages, so that the dispatcher never waits for
// the history and keeps delivering what arrives on the delivery channel
// while a store is in flight. Nothing of the intake is delivered before it
// is stored: the store that wins publishes the delivery.
type storer struct {
	// immutable after newStorer
	cfg     SubscriberConfig
	store   entryStore
	pending *pendingSites // shared with the retry writer; safe for concurrent use
	rep     *reporter
	out     chan<- history.Entry // to the retry writer

	// owned by the storer goroutine
	entries []history.Entry // scratch: the entries sent in one round trip
	sent    []int           // scratch: sent[j] is the index in round of entries[j]
	round   []history.Entry // scratch: the entries of the batches taken
}

func newStorer(cfg SubscriberConfig, store entryStore, pending *pendingSites, rep *reporter,
	out chan<- history.Entry) *storer {
	return &storer{cfg: cfg, store: store, pending: pending, rep: rep, out: out}
}

// run stores the batches queued on in until it is closed, then returns.
// Each round trip takes one batch and the batches queued behind it (up to
// storeRoundMax), without waiting for more.
func (s *storer) run(ctx context.Context, in <-chan []history.Entry) {
	for b := range in {
		s.round = append(s.round[:0], b...)
	take:
		for range storeRoundMax - 1 {
			select {
			case b, ok := <-in:
				if !ok {
					break take
				}
				s.round = append(s.round, b...)
			default:
				break take
			}
		}
		s.storeRound(ctx)
		clear(s.round) // let the bytes be collected
	}
}

// storeRound stores the round in one round trip bounded by StoreTimeout.
// Entries of sites with entries waiting in the retry writer are not sent
// (they must not overtake them); they, and the entries whose write failed
// with a retryable error or timed out, go to the retry writer, in order.
func (s *storer) storeRound(ctx context.Context) {
	s.entries, s.sent = s.entries[:0], s.sent[:0]
	stored := make([]bool, len(s.round)) // stored, already there, or refused for good
	for i, e := range s.round {
		if !s.pending.has(e.Host) {
			s.entries = append(s.entries, e)
			s.sent = append(s.sent, i)
		}
	}
	if len(s.entries) > 0 {
		sctx, cancel := context.WithTimeout(ctx, s.cfg.StoreTimeout)
		added, err := s.store.AppendBatch(sctx, s.entries)
		cancel()
		clear(s.entries)
		var retryErr error
		for j, i := range s.sent {
			switch err := history.EntryError(err, j); {
			case err == nil:
				s.rep.stored(added[j])
				stored[i] = true
			case history.IsPermanent(err):
				s.rep.drop(DropHistoryRejected, err, "")
				stored[i] = true
			default:
				retryErr = err
			}
		}
		if retryErr != nil {
			s.rep.warn("history_deferred", "pubsub: intake store failed, retrying",
				"entries", len(s.entries), "timeout", s.cfg.StoreTimeout, "err", retryErr)
		}
	}
	for i, e := range s.round {
		if !stored[i] {
			s.rep.stats.deferred.Add(1)
			handOver(s.pending, s.out, s.rep, e)
		}
	}
}

// handOver gives e to the retry writer on out without blocking; its site
// counts as pending until the writer settles it.
func handOver(pending *pendingSites, out chan<- history.Entry, rep *reporter, e history.Entry) {
	pending.add(e.Host)
	select {
	case out <- e:
	default:
		pending.done(e.Host)
		rep.drop(DropHistoryQueueFull, nil, "")
	}
}
