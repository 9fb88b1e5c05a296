package pubsub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/notifyd/notifyd/internal/backoff"
	"github.com/notifyd/notifyd/internal/lograte"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/message"
)

// Subscriber defaults.
const (
	// DefaultQueueSize is the default bound of the raw payload queue.
	DefaultQueueSize = 16384
	// DefaultHistoryQueueSize is the default bound of the queue of history
	// entries handed to the retry writer.
	DefaultHistoryQueueSize = 16384
	// DefaultHistoryRetryQueueSize is the default bound of the history
	// entries waiting for a retry, over all sites.
	DefaultHistoryRetryQueueSize = 16384
	// DefaultHistoryBatch is the default number of payloads per dispatcher
	// batch, and of entries per history write.
	DefaultHistoryBatch = 128
	// DefaultStoreTimeout is the default bound of the history write the
	// dispatcher makes before it delivers a batch.
	DefaultStoreTimeout = 500 * time.Millisecond
	// DefaultHealthCheckInterval is the default idle time before a PING.
	DefaultHealthCheckInterval = 3 * time.Second
	// DefaultFlushTimeout is the default time Run spends draining on shutdown.
	DefaultFlushTimeout = 2 * time.Second
	// DefaultRecentIDs is the default number of recently dispatched ids
	// remembered to skip duplicates.
	DefaultRecentIDs = 16384
	// DefaultGapFillSites is the default number of sites whose last
	// dispatched id is remembered for gap fills.
	DefaultGapFillSites = 10000
	// DefaultGapFillMargin is the default margin subtracted from the moment
	// the subscription was lost when a gap fill selects messages by time.
	DefaultGapFillMargin = 2 * time.Second
)

// Backoff defaults.
const (
	// DefaultBackoffMin is the first delay after a Redis error.
	DefaultBackoffMin = 100 * time.Millisecond
	// DefaultBackoffMax caps the delay between attempts.
	DefaultBackoffMax = 5 * time.Second
)

// controlQueueSize bounds the control payloads waiting for the dispatcher.
// Control messages are rare; a full queue drops them (ControlDropped).
const controlQueueSize = 256

// Sink receives every valid message the subscriber reads, with its push form
// (the message without target, encoded once for every recipient), once the
// message is in the History (unless its write failed or timed out: see
// StoreTimeout). Deliver is called from one goroutine, must not block, and
// must not modify m or push. It is satisfied by *wsgateway.Gateway.
//
// A Sink may also implement ControlSink (to obey disconnect orders) and
// SiteLister (so that gap fills cover the sites of its live connections).
type Sink interface {
	Deliver(m *message.Message, push []byte)
}

// SiteLister is implemented by a Sink that can list the sites (message
// hosts, as the history keys them) of its live connections. After a
// resubscription the subscriber fills the gap for these sites as well as for
// the sites it dispatched messages for. Sites is called from the goroutine
// that calls Deliver, must be safe for concurrent use with the sink's other
// callers and must not block. It is satisfied by *wsgateway.Gateway.
type SiteLister interface {
	Sites() []string
}

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

// SubscriberConfig configures a Subscriber.
type SubscriberConfig struct {
	// Channel is the Redis channel to subscribe to. Default DefaultChannel.
	Channel string
	// ControlChannel is the Redis channel of control messages (see
	// ControlMessage), subscribed on the same connection as Channel; it
	// must differ from Channel. Default DefaultControlChannel.
	ControlChannel string
	// MaxMessageSize bounds payloads in bytes; larger ones are dropped
	// (DropTooLarge). Default message.DefaultMaxSize; negative means no limit.
	MaxMessageSize int
	// QueueSize bounds the raw payloads waiting between the read loop and the
	// dispatcher; when it is full, payloads are dropped (DropQueueFull).
	// Default DefaultQueueSize.
	QueueSize int
	// HistoryQueueSize bounds the messages handed to the history retry
	// writer (their write failed or timed out, or their site has older ones
	// waiting) that it has not taken yet; when it is full they are
	// delivered but not stored by this gateway (DropHistoryQueueFull).
	// Default DefaultHistoryQueueSize.
	HistoryQueueSize int
	// HistoryRetryQueueSize bounds, over all sites, the messages whose
	// history write failed and waits for a retry, with the later messages
	// of the same sites queued behind them (see the package documentation).
	// When it is full, a site's oldest waiting message is discarded to make
	// room for its newest (DropHistoryRetryQueueFull); a site with nothing
	// waiting loses the new message instead. Each site also keeps at most
	// as many as its history list does (HistoryConfig.Length): older ones
	// would be trimmed at once (DropHistorySuperseded). Default
	// DefaultHistoryRetryQueueSize.
	HistoryRetryQueueSize int
	// HistoryBatch is the most payloads the dispatcher takes in one batch
	// (whatever is queued, without waiting for more), whose messages it
	// stores in one round trip before it delivers them, and the most
	// entries a retry round stores. Default DefaultHistoryBatch.
	HistoryBatch int
	// StoreTimeout bounds the history write the dispatcher makes for a
	// batch before it delivers it. When the write fails or takes longer,
	// the batch is delivered all the same (the history never holds a live
	// message back for longer) and its entries are stored later by the
	// retry writer, in order (HistoryDeferred): until then a client that
	// reconnects with ?since= may miss them. Default DefaultStoreTimeout;
	// it must not be negative.
	StoreTimeout time.Duration
	// Resolver computes the target of messages that arrive without one.
	// Default: none.
	Resolver Resolver
	// BackoffMin and BackoffMax bound the jittered exponential delay between
	// attempts after a Redis error. Defaults DefaultBackoffMin and
	// DefaultBackoffMax.
	BackoffMin, BackoffMax time.Duration
	// HealthCheckInterval is how long the read loop waits for a message
	// before it sends a PING; when the PING gets no reply within another
	// interval, the connection is declared dead and replaced. Default
	// DefaultHealthCheckInterval.
	HealthCheckInterval time.Duration
	// FlushTimeout bounds how long Run, once its context is done, keeps
	// dispatching what was queued and storing it in the history (retrying
	// the writes that fail); what is left is dropped (DropHistoryShutdown).
	// Deliveries that remain are made without storing (a write attempted
	// after FlushTimeout fails at once).
	// Default DefaultFlushTimeout.
	FlushTimeout time.Duration
	// RecentIDs is how many recently dispatched message ids (live or gap
	// filled) are remembered; a payload whose id is among them is skipped
	// (Stats().Duplicates). The oldest id is forgotten first. Default
	// DefaultRecentIDs.
	RecentIDs int
	// GapFillSites is how many sites' last dispatched ids are remembered for
	// gap fills; the least recently dispatched site is forgotten first.
	// Default DefaultGapFillSites.
	GapFillSites int
	// GapFillMargin widens the time window of gap fills: messages whose ULID
	// time is after the loss of the subscription minus GapFillMargin are
	// candidates. It absorbs clock skew between producers and the gateway
	// and the latency of the last messages before the loss. Default
	// DefaultGapFillMargin.
	GapFillMargin time.Duration
	// OnSubscribed, if set, is called from the read loop each time the
	// subscription (to Channel and ControlChannel) is confirmed, with
	// reconnect false the first time and true afterwards (a gap in the
	// stream may precede it; a gap fill is requested right after the call).
	// It must return quickly: the read loop does not read while it runs. ctx
	// is Run's context.
	OnSubscribed func(ctx context.Context, reconnect bool)
	// Logger receives lifecycle Info logs and rate-limited Warn logs about
	// drops and connection losses. Default: discard.
	Logger *slog.Logger
}

// Subscriber reads the Redis channel, stores every valid message in the
// History and hands it to a Sink. See the package documentation for its
// goroutines.
type Subscriber struct {
	// immutable after NewSubscriber
	rdb          redis.UniversalClient
	history      SubscriberHistory // nil: no history writes, no gap fills
	store        entryStore        // where the dispatcher and the retry writer store: history (nil: none), or a fake in tests
	retryPerSite int               // most entries a site keeps waiting for a retry: history's length
	sink         Sink
	cfg          SubscriberConfig // defaults applied
	log          *slog.Logger
	limiter      *lograte.Limiter

	stats   *counters     // atomic
	ready   atomic.Bool   // true while the subscription is confirmed
	started atomic.Bool   // Run was called
	fills   fillQueue     // gap fills requested by the read loop; safe for concurrent use
	pending *pendingSites // entries handed to the retry writer, per site; safe for concurrent use

	// owned by the dispatcher goroutine
	recent *recentIDs // recently dispatched ids
	sites  *siteIDs   // last dispatched id per site

	mu     sync.Mutex    // guards the fields below
	ps     *redis.PubSub // current subscription: made by the read loop, closed by Run
	closed bool          // Run is stopping: no new PubSub may be made
}

// NewSubscriber returns a Subscriber reading with rdb, storing into h (nil h:
// no history writes, no gap fills) and delivering to sink. It starts no
// goroutine and does not contact Redis.
func NewSubscriber(rdb redis.UniversalClient, h SubscriberHistory, sink Sink, cfg SubscriberConfig) (*Subscriber, error) {
	if rdb == nil {
		return nil, errors.New("pubsub: subscriber: nil redis client")
	}
	if sink == nil {
		return nil, errors.New("pubsub: subscriber: nil sink")
	}
	if cfg.Channel == "" {
		cfg.Channel = DefaultChannel
	}
	if cfg.ControlChannel == "" {
		cfg.ControlChannel = DefaultControlChannel
	}
	if cfg.ControlChannel == cfg.Channel {
		return nil, fmt.Errorf("pubsub: subscriber: control channel %q is the data channel", cfg.ControlChannel)
	}
	if cfg.MaxMessageSize == 0 {
		cfg.MaxMessageSize = message.DefaultMaxSize
	}
	setDefault(&cfg.QueueSize, DefaultQueueSize)
	setDefault(&cfg.HistoryQueueSize, DefaultHistoryQueueSize)
	setDefault(&cfg.HistoryRetryQueueSize, DefaultHistoryRetryQueueSize)
	setDefault(&cfg.HistoryBatch, DefaultHistoryBatch)
	setDefault(&cfg.StoreTimeout, DefaultStoreTimeout)
	setDefault(&cfg.BackoffMin, DefaultBackoffMin)
	setDefault(&cfg.BackoffMax, DefaultBackoffMax)
	setDefault(&cfg.HealthCheckInterval, DefaultHealthCheckInterval)
	setDefault(&cfg.FlushTimeout, DefaultFlushTimeout)
	setDefault(&cfg.RecentIDs, DefaultRecentIDs)
	setDefault(&cfg.GapFillSites, DefaultGapFillSites)
	setDefault(&cfg.GapFillMargin, DefaultGapFillMargin)
	if cfg.QueueSize < 0 || cfg.HistoryQueueSize < 0 || cfg.HistoryRetryQueueSize < 0 || cfg.HistoryBatch < 0 ||
		cfg.RecentIDs < 0 || cfg.GapFillSites < 0 {
		return nil, fmt.Errorf("pubsub: subscriber: negative queue size, batch, recent ids or gap fill sites")
	}
	if cfg.BackoffMin < 0 || cfg.BackoffMax < cfg.BackoffMin || cfg.HealthCheckInterval < 0 || cfg.FlushTimeout < 0 ||
		cfg.GapFillMargin < 0 || cfg.StoreTimeout < 0 {
		return nil, fmt.Errorf("pubsub: subscriber: invalid durations "+
			"(backoff %v..%v, health check %v, flush %v, gap fill margin %v, store timeout %v)",
			cfg.BackoffMin, cfg.BackoffMax, cfg.HealthCheckInterval, cfg.FlushTimeout, cfg.GapFillMargin,
			cfg.StoreTimeout)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	stats := newCounters()
	s := &Subscriber{
		rdb:     rdb,
		history: h,
		sink:    sink,
		cfg:     cfg,
		log:     cfg.Logger.With("channel", cfg.Channel),
		limiter: lograte.New(10*time.Second, nil),
		stats:   stats,
		pending: newPendingSites(&stats.pending),
		recent:  newRecentIDs(cfg.RecentIDs),
		sites:   newSiteIDs(cfg.GapFillSites),
	}
	if h != nil {
		s.store, s.retryPerSite = h, h.Length()
	}
	return s, nil
}

// newBackoff returns the delay between attempts after Redis errors: equal
// jitter, from BackoffMin doubling up to BackoffMax, each delay drawn in
// [ceiling/2, ceiling].
func (c SubscriberConfig) newBackoff() backoff.Backoff {
	return backoff.Backoff{Min: c.BackoffMin, Max: c.BackoffMax, Jitter: backoff.Equal}
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v == 0 {
		*v = def
	}
}

// Ready reports whether the subscription to both the data and the control
// channel is confirmed: false before the first confirmation, after a
// connection error until Redis confirms both again, and after Run returns.
// A gap fill requested by a resubscription may still be running when Ready
// turns true again.
func (s *Subscriber) Ready() bool { return s.ready.Load() }

// Stats returns the subscriber's counters.
func (s *Subscriber) Stats() SubscriberStats { return s.stats.snapshot() }

// Run subscribes and processes messages until ctx is done, then stops reading,
// dispatches and stores what was already queued (for at most FlushTimeout),
// joins its goroutines, closes the subscription and returns nil. Redis errors
// are not fatal: Run reconnects with backoff. Run may be called once.
func (s *Subscriber) Run(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("pubsub: subscriber: Run called twice")
	}
	// One slot more than QueueSize: payloads never take the last one, which
	// is kept for the gap-fill marker (see requestFill).
	raw := make(chan item, s.cfg.QueueSize+1)
	ctl := make(chan string, controlQueueSize)
	entries := make(chan history.Entry, s.cfg.HistoryQueueSize)
	// The dispatcher and the retry writer outlive ctx by up to FlushTimeout
	// so that what was read is still stored and delivered on a graceful
	// shutdown.
	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()

	readDone := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer close(readDone)
		defer close(ctl)
		defer close(raw)
		s.readLoop(ctx, raw, ctl)
	}()
	go func() {
		defer wg.Done()
		defer close(entries)
		s.dispatchLoop(work, ctx.Done(), raw, ctl, entries)
	}()
	go func() {
		defer wg.Done()
		s.writeLoop(work, entries)
	}()
	s.log.Info("pubsub: subscriber started")

	<-ctx.Done()
	s.closePubSub() // interrupts a blocked receive
	<-readDone
	timer := time.AfterFunc(s.cfg.FlushTimeout, stopWork)
	wg.Wait()
	timer.Stop()
	s.log.Info("pubsub: subscriber stopped")
	return nil
}
