package pubsub

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/backoff"
	"github.com/notifyd/notifyd/message"
)

// Subscriber defaults.
const (
	// DefaultQueueSize is the default bound of the payloads queued between
	// the read loop and the dispatcher.
	DefaultQueueSize = 1 << 20
	// DefaultQueueBytes is the default bound of the payload bytes queued
	// between the read loop and the dispatcher.
	DefaultQueueBytes = 256 << 20
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
	// DefaultGapFillPage is the default number of a site's stored messages
	// one read of a gap fill returns (with a DeliveryChannel).
	DefaultGapFillPage = 256
	// DefaultGapFillMax is the default bound of the messages one gap fill
	// delivers per site (with a DeliveryChannel).
	DefaultGapFillMax = 1000
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

// SubscriberConfig configures a Subscriber.
type SubscriberConfig struct {
	// Channel is the Redis channel to subscribe to. Default DefaultChannel.
	// With a DeliveryChannel it is the intake only: its messages are
	// stored, never delivered from it.
	Channel string
	// DeliveryChannel, when set, turns the inbox pipeline on: messages read
	// on Channel are stored (the history's script, configured with the
	// same history.Config.DeliveryChannel, publishes each message it
	// stores, once, on this channel) and only what arrives on this channel
	// is delivered, so every gateway delivers a site's messages in the
	// order they were stored. It must differ from Channel and
	// ControlChannel, and the history must be given. Empty (the default):
	// every valid message read on Channel is stored and then delivered,
	// as before the inbox.
	DeliveryChannel string
	// ControlChannel is the Redis channel of control messages (see
	// ControlMessage), subscribed on the same connection as Channel; it
	// must differ from Channel. Default DefaultControlChannel.
	ControlChannel string
	// MaxMessageSize bounds payloads in bytes, and, with a history, the
	// stored form of each message (with its id and target); larger ones
	// are dropped (DropTooLarge). Default message.DefaultMaxSize; negative
	// means no limit.
	MaxMessageSize int
	// QueueSize bounds the payloads waiting between the read loop and the
	// dispatcher; the queue grows on demand up to it (and QueueBytes), so
	// that the read loop keeps draining Redis through a burst. Beyond,
	// payloads are dropped (DropQueueFull). Default DefaultQueueSize.
	QueueSize int
	// QueueBytes bounds the payload bytes waiting between the read loop
	// and the dispatcher, as QueueSize bounds their number: the memory a
	// burst may hold. Default DefaultQueueBytes.
	QueueBytes int
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
	// as many as its history list does (SubscriberHistory.Length): older ones
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
	// Resolver computes the target of messages that arrive without one,
	// and records the target keys (message.Target.Keys) of every message.
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
	// GapFillPage is how many stored messages of a site one read of a gap
	// fill asks for (history SiteSince), with a DeliveryChannel; at most
	// history.MaxReplay. Default DefaultGapFillPage.
	GapFillPage int
	// GapFillMax bounds the messages a gap fill delivers per site, with a
	// DeliveryChannel: after a longer outage the oldest missed are skipped
	// (clients that reconnect catch up from the inbox). Default
	// DefaultGapFillMax.
	GapFillMax int
	// OnSubscribed, if set, is called from the read loop each time the
	// subscription (to Channel, ControlChannel and DeliveryChannel) is confirmed, with
	// reconnect false the first time and true afterwards (a gap in the
	// stream may precede it; a gap fill is requested right after the call).
	// It must return quickly: the read loop does not read while it runs. ctx
	// is Run's context.
	OnSubscribed func(ctx context.Context, reconnect bool)
	// Logger receives lifecycle Info logs and rate-limited Warn logs about
	// drops and connection losses. Default: discard.
	Logger *slog.Logger
}

// channels returns the channels the subscriber listens on: the data
// channel, the control channel, and the delivery channel when set.
func (c SubscriberConfig) channels() []string {
	if c.DeliveryChannel == "" {
		return []string{c.Channel, c.ControlChannel}
	}
	return []string{c.Channel, c.ControlChannel, c.DeliveryChannel}
}

// inbox reports whether the inbox pipeline is on (see DeliveryChannel).
func (c SubscriberConfig) inbox() bool { return c.DeliveryChannel != "" }

// newBackoff returns the delay between attempts after Redis errors: equal
// jitter, from BackoffMin doubling up to BackoffMax, each delay drawn in
// [ceiling/2, ceiling].
func (c SubscriberConfig) newBackoff() backoff.Backoff {
	return backoff.Backoff{Min: c.BackoffMin, Max: c.BackoffMax, Jitter: backoff.Equal}
}

// withDefaults returns c with every zero field set to its default.
func (c SubscriberConfig) withDefaults() SubscriberConfig {
	c.Channel = cmp.Or(c.Channel, DefaultChannel)
	c.ControlChannel = cmp.Or(c.ControlChannel, DefaultControlChannel)
	c.MaxMessageSize = cmp.Or(c.MaxMessageSize, message.DefaultMaxSize)
	c.QueueSize = cmp.Or(c.QueueSize, DefaultQueueSize)
	c.QueueBytes = cmp.Or(c.QueueBytes, DefaultQueueBytes)
	c.HistoryQueueSize = cmp.Or(c.HistoryQueueSize, DefaultHistoryQueueSize)
	c.HistoryRetryQueueSize = cmp.Or(c.HistoryRetryQueueSize, DefaultHistoryRetryQueueSize)
	c.HistoryBatch = cmp.Or(c.HistoryBatch, DefaultHistoryBatch)
	c.StoreTimeout = cmp.Or(c.StoreTimeout, DefaultStoreTimeout)
	c.BackoffMin = cmp.Or(c.BackoffMin, DefaultBackoffMin)
	c.BackoffMax = cmp.Or(c.BackoffMax, DefaultBackoffMax)
	c.HealthCheckInterval = cmp.Or(c.HealthCheckInterval, DefaultHealthCheckInterval)
	c.FlushTimeout = cmp.Or(c.FlushTimeout, DefaultFlushTimeout)
	c.RecentIDs = cmp.Or(c.RecentIDs, DefaultRecentIDs)
	c.GapFillSites = cmp.Or(c.GapFillSites, DefaultGapFillSites)
	c.GapFillMargin = cmp.Or(c.GapFillMargin, DefaultGapFillMargin)
	c.GapFillPage = cmp.Or(c.GapFillPage, DefaultGapFillPage)
	c.GapFillMax = cmp.Or(c.GapFillMax, DefaultGapFillMax)
	c.Logger = cmp.Or(c.Logger, slog.New(slog.DiscardHandler))
	return c
}

// check validates c once defaults are applied; each error names its field.
func (c SubscriberConfig) check() error {
	var errs []error
	if c.ControlChannel == c.Channel {
		errs = append(errs, fmt.Errorf("pubsub: subscriber: ControlChannel %q is the data Channel", c.ControlChannel))
	}
	if c.GapFillPage > history.MaxReplay {
		errs = append(errs, fmt.Errorf("pubsub: subscriber: GapFillPage %d is over history.MaxReplay %d", c.GapFillPage, history.MaxReplay))
	}
	if c.DeliveryChannel != "" && (c.DeliveryChannel == c.Channel || c.DeliveryChannel == c.ControlChannel) {
		errs = append(errs, fmt.Errorf("pubsub: subscriber: DeliveryChannel %q is the data or the control Channel", c.DeliveryChannel))
	}
	for _, f := range []struct {
		name  string
		value int
	}{
		{"QueueSize", c.QueueSize}, {"QueueBytes", c.QueueBytes}, {"HistoryQueueSize", c.HistoryQueueSize},
		{"HistoryRetryQueueSize", c.HistoryRetryQueueSize}, {"HistoryBatch", c.HistoryBatch},
		{"RecentIDs", c.RecentIDs}, {"GapFillSites", c.GapFillSites},
		{"GapFillPage", c.GapFillPage}, {"GapFillMax", c.GapFillMax},
	} {
		if f.value < 0 {
			errs = append(errs, fmt.Errorf("pubsub: subscriber: %s %d is negative", f.name, f.value))
		}
	}
	for _, f := range []struct {
		name  string
		value time.Duration
	}{
		{"StoreTimeout", c.StoreTimeout}, {"BackoffMin", c.BackoffMin},
		{"HealthCheckInterval", c.HealthCheckInterval}, {"FlushTimeout", c.FlushTimeout},
		{"GapFillMargin", c.GapFillMargin},
	} {
		if f.value < 0 {
			errs = append(errs, fmt.Errorf("pubsub: subscriber: %s %v is negative", f.name, f.value))
		}
	}
	if c.BackoffMax < c.BackoffMin {
		errs = append(errs, fmt.Errorf("pubsub: subscriber: BackoffMax %v is below BackoffMin %v", c.BackoffMax, c.BackoffMin))
	}
	return errors.Join(errs...)
}
