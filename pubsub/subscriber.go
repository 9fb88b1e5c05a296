package pubsub

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/notifyd/notifyd/internal/lograte"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/message"
)

// SubscriberHistory is what a Subscriber needs of the history:
// *history.Store satisfies it. AppendBatch stores entries once per id, in
// one round trip, and reports each entry's outcome (history.EntryError,
// history.IsPermanent); ListMany reads many sites' lists, newest first, for
// gap fills; Length is how many entries a site's list keeps.
type SubscriberHistory interface {
	AppendBatch(ctx context.Context, entries []history.Entry) (added []bool, err error)
	ListMany(ctx context.Context, hosts []string) (lists [][]*message.Message, errs []error)
	Length() int
}

// Subscriber reads the Redis channel, stores every valid message in the
// history and hands it to a Sink. See the package documentation for its
// goroutines.
type Subscriber struct {
	// immutable after NewSubscriber
	cfg     SubscriberConfig  // defaults applied
	history SubscriberHistory // nil: no history writes, no gap fills
	sink    Sink
	rep     *reporter
	sub     *subscription // the read loop's PubSub and readiness; Run closes it

	started atomic.Bool // Run was called
}

// NewSubscriber returns a Subscriber reading with rdb, storing into h (nil h:
// no history writes, no gap fills; pass an untyped nil, not a nil
// *history.Store) and delivering to sink. It starts no goroutine and does
// not contact Redis.
func NewSubscriber(rdb redis.UniversalClient, h SubscriberHistory, sink Sink, cfg SubscriberConfig) (*Subscriber, error) {
	if rdb == nil {
		return nil, errors.New("pubsub: subscriber: nil redis client")
	}
	if sink == nil {
		return nil, errors.New("pubsub: subscriber: nil sink")
	}
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.inbox() && h == nil {
		return nil, errors.New("pubsub: subscriber: a DeliveryChannel needs a history (the intake is stored, then delivered)")
	}
	log := cfg.Logger.With("channel", cfg.Channel)
	return &Subscriber{
		cfg:     cfg,
		history: h,
		sink:    sink,
		rep:     &reporter{stats: newCounters(), log: log, limiter: lograte.New(10*time.Second, nil)},
		sub:     newSubscription(rdb, log, cfg.channels()...),
	}, nil
}

// Ready reports whether the subscription to both the data and the control
// channel is confirmed: false before the first confirmation, after a
// connection error until Redis confirms both again, and after Run returns.
// A gap fill requested by a resubscription may still be running when Ready
// turns true again.
func (s *Subscriber) Ready() bool { return s.sub.ready.Load() }

// Stats returns the subscriber's counters.
func (s *Subscriber) Stats() SubscriberStats { return s.rep.stats.snapshot() }

// Run subscribes and processes messages until ctx is done, then stops reading,
// dispatches and stores what was already queued (for at most FlushTimeout),
// joins its goroutines, closes the subscription and returns nil. Redis errors
// are not fatal: Run reconnects with backoff. Run may be called once.
func (s *Subscriber) Run(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("pubsub: subscriber: Run called twice")
	}
	raw := newItemQueue(s.cfg.QueueSize, s.cfg.QueueBytes)
	ctl := make(chan string, controlQueueSize)
	entries := make(chan history.Entry, s.cfg.HistoryQueueSize)
	var intake chan []history.Entry // with a DeliveryChannel: from the dispatcher to the storer
	if s.cfg.inbox() {
		intake = make(chan []history.Entry, intakeBatches)
	}
	r, d, st, w := s.newPipeline(raw, ctl, entries, intake)
	// The dispatcher, the storer and the retry writer outlive ctx by up to
	// FlushTimeout so that what was read is still stored and delivered on
	// a graceful shutdown.
	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()

	readDone := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer close(readDone)
		defer close(ctl)
		defer raw.close()
		r.run(ctx)
	}()
	if st == nil {
		go func() {
			defer wg.Done()
			defer close(entries)
			d.run(work, ctx.Done(), raw, ctl)
		}()
	} else {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(intake)
			d.run(work, ctx.Done(), raw, ctl)
		}()
		go func() {
			defer wg.Done()
			defer close(entries)
			st.run(work, intake)
		}()
	}
	go func() {
		defer wg.Done()
		w.run(work, entries)
	}()
	s.rep.log.Info("pubsub: subscriber started")

	<-ctx.Done()
	s.sub.close() // interrupts a blocked receive
	<-readDone
	timer := time.AfterFunc(s.cfg.FlushTimeout, stopWork)
	wg.Wait()
	timer.Stop()
	s.rep.log.Info("pubsub: subscriber stopped")
	return nil
}

// newPipeline returns the states of Run's goroutines, around its queues:
// raw and ctl from the read loop to the dispatcher, intake (with a
// DeliveryChannel; nil without, and no storer) from the dispatcher to the
// storer, entries from the dispatcher (or the storer) to the retry writer.
func (s *Subscriber) newPipeline(raw *itemQueue, ctl chan<- string, entries chan<- history.Entry,
	intake chan<- []history.Entry) (*reader, *dispatcher, *storer, *retryWriter) {
	var (
		store   entryStore
		lists   historyLister
		since   siteReader
		perSite int
	)
	if s.history != nil {
		store, lists, perSite = s.history, s.history, s.history.Length()
		since, _ = s.history.(siteReader)
	}
	d := newDispatcher(s.cfg, store, lists, since, s.sink, s.rep, entries, intake)
	var st *storer
	if intake != nil {
		st = newStorer(s.cfg, store, d.pending, s.rep, entries)
	}
	w := newRetryWriter(s.cfg, store, perSite, d.pending, s.rep)
	r := newReader(s.cfg, s.sub, d.fills, s.rep, raw, ctl)
	return r, d, st, w
}
