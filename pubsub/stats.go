package pubsub

import (
	"sync/atomic"

	"github.com/notifyd/notifyd/internal/hist"
)

// DropReason names why the subscriber dropped a message. Every drop is counted
// under exactly one reason.
type DropReason string

// Drop reasons.
const (
	// DropQueueFull: the queue between the read loop and the dispatcher was
	// full (the dispatcher or the sink is too slow).
	DropQueueFull DropReason = "queue_full"
	// DropMalformed: the payload is not a JSON object (or not UTF-8).
	DropMalformed DropReason = "malformed"
	// DropTooLarge: the payload, or with a history its stored form,
	// exceeds MaxMessageSize.
	DropTooLarge DropReason = "too_large"
	// DropInvalid: a field has a wrong type or value.
	DropInvalid DropReason = "invalid"
	// DropResolve: the Resolver failed, so the message has no target.
	DropResolve DropReason = "resolve_failed"
	// DropHistoryQueueFull: the message was delivered, but it could not be
	// stored before (its write failed or timed out, or its site had older
	// messages waiting for a retry), and the queue between the dispatcher
	// and the history retry writer was full (the writer cannot keep up), so
	// it is not stored by this gateway.
	DropHistoryQueueFull DropReason = "history_queue_full"
	// DropHistoryRetryQueueFull: the message was waiting for a retry of its
	// site's history write, and the retry queues of all sites together held
	// HistoryRetryQueueSize messages (Redis has been failing for a while for
	// many sites): it was the oldest of its site, or the newest of a site
	// with nothing else waiting, so it is not stored by this gateway.
	DropHistoryRetryQueueFull DropReason = "history_retry_queue_full"
	// DropHistorySuperseded: the message was waiting for a retry of its
	// site's history write behind as many newer messages of its site as the
	// history keeps: stored, it would have been trimmed as soon as they are,
	// so it was discarded. Nothing readable is lost.
	DropHistorySuperseded DropReason = "history_superseded"
	// DropHistoryRejected: Redis refused to store the message for good (for
	// example WRONGTYPE because the list key holds something else).
	DropHistoryRejected DropReason = "history_rejected"
	// DropHistoryShutdown: the message was still waiting to be stored when
	// the subscriber stopped and FlushTimeout ran out.
	DropHistoryShutdown DropReason = "history_shutdown"
	// DropDeliveryMalformed: a payload of the delivery channel is not a
	// delivery (history.ParseDelivery) or its stored form does not decode.
	DropDeliveryMalformed DropReason = "delivery_malformed"
)

// DropReasons lists every DropReason, for metrics registration.
func DropReasons() []DropReason {
	return []DropReason{DropQueueFull, DropMalformed, DropTooLarge, DropInvalid, DropResolve,
		DropHistoryQueueFull, DropHistoryRetryQueueFull, DropHistorySuperseded, DropHistoryRejected,
		DropHistoryShutdown, DropDeliveryMalformed}
}

// SubscriberStats are a Subscriber's counters since NewSubscriber.
type SubscriberStats struct {
	Received   uint64 // payloads read from the data channel (the intake, with a DeliveryChannel)
	Deliveries uint64 // payloads read from the delivery channel
	// DeliveriesReused counts messages this subscriber had prepared from
	// the intake itself and delivered, from the delivery channel, as
	// prepared instead of decoded again (also in Deliveries and Delivered).
	DeliveriesReused  uint64
	Delivered         uint64 // messages handed to the Sink, live or by gap fills
	HistoryWritten    uint64 // messages this subscriber stored in the history
	HistoryDuplicates uint64 // messages already stored (by a publisher or another gateway)
	Reconnects        uint64 // subscription confirmations after the first
	// HistoryDeferred counts messages delivered before they were stored:
	// the dispatcher's write of their batch failed or took longer than
	// StoreTimeout, or their site had older messages waiting for a retry.
	// They were handed to the retry writer (or dropped, counted under a
	// DropReason). Until stored, a client that reconnects with ?since=
	// cannot find them in the history. With a DeliveryChannel nothing is
	// delivered before it is stored: it counts the intake messages handed
	// to the retry writer, delivered once a retry stores them.
	HistoryDeferred uint64
	// HistoryPending is a gauge, not a counter: the messages handed to the
	// retry writer and not yet stored or dropped.
	HistoryPending uint64
	// Duplicates counts payloads read from the channel and skipped because
	// a message with the same id was dispatched recently (live or by a gap
	// fill): the same payload published twice, or a live copy of a message a
	// gap fill already delivered. They are neither delivered nor stored.
	Duplicates uint64
	// GapFills counts gap fills run (one per resubscription, plus retries
	// of sites whose history could not be read).
	GapFills uint64
	// GapFilled counts messages delivered by gap fills (also in Delivered).
	GapFilled uint64
	// GapFillErrors counts site histories a gap fill could not read; those
	// sites are retried with backoff.
	GapFillErrors uint64
	// Control counts payloads read from the control channel.
	Control uint64
	// ControlMalformed counts control payloads that are not a valid control
	// message (not JSON, wrong types, too large, a disconnect without
	// principal); they are ignored.
	ControlMalformed uint64
	// ControlUnknown counts control messages with an action this version
	// does not know; they are ignored.
	ControlUnknown uint64
	// ControlDropped counts control payloads dropped because the control
	// queue was full.
	ControlDropped uint64
	// Disconnects counts disconnect orders passed to ControlSink.Disconnect.
	Disconnects uint64
	// Disconnected sums the connections ControlSink.Disconnect reported
	// closed.
	Disconnected uint64
	// Updated and Retracted count update and retract deliveries passed to
	// a ChangeSink (with a DeliveryChannel); without a ChangeSink they are
	// ignored and not counted.
	Updated, Retracted uint64
	// InboxChanges and PrefsChanges count inbox and prefs control messages
	// passed to an InboxSink.
	InboxChanges, PrefsChanges uint64
	// Dropped counts drops by reason; every reason of DropReasons is present.
	Dropped map[DropReason]uint64
	// PublishToDelivery is the age of each message the dispatcher handed to
	// Sink.Deliver live (not by a gap fill): the time of the hand-over minus
	// the message's timestamp. Messages published through the Publisher
	// (the REST API) carry the timestamp of the gateway that published them;
	// a bare PUBLISH carries its producer's, so the producer's clock skew is
	// in the figure (an age below zero counts as zero).
	PublishToDelivery hist.Snapshot
}

// counters are the subscriber's atomic counters.
type counters struct {
	received, delivered, written, duplicates, reconnects       atomic.Uint64
	deliveries, updated, retracted, inboxChanges, prefsChanges atomic.Uint64
	deferred, reused                                           atomic.Uint64
	skipped, gapFills, gapFilled, gapFillErrors                atomic.Uint64
	control, controlMalformed, controlUnknown, controlDropped  atomic.Uint64
	disconnects, disconnected                                  atomic.Uint64
	pending                                                    atomic.Uint64 // a gauge, kept by pendingSites
	// dropped is built by newCounters and never modified afterwards; its
	// values are atomic.
	dropped map[DropReason]*atomic.Uint64
	latency *hist.Histogram // publish to delivery; guards itself
}

func newCounters() *counters {
	c := &counters{dropped: make(map[DropReason]*atomic.Uint64), latency: hist.New()}
	for _, r := range DropReasons() {
		c.dropped[r] = new(atomic.Uint64)
	}
	return c
}

func (c *counters) snapshot() SubscriberStats {
	s := SubscriberStats{
		Received:          c.received.Load(),
		Deliveries:        c.deliveries.Load(),
		DeliveriesReused:  c.reused.Load(),
		Updated:           c.updated.Load(),
		Retracted:         c.retracted.Load(),
		InboxChanges:      c.inboxChanges.Load(),
		PrefsChanges:      c.prefsChanges.Load(),
		Delivered:         c.delivered.Load(),
		HistoryWritten:    c.written.Load(),
		HistoryDuplicates: c.duplicates.Load(),
		Reconnects:        c.reconnects.Load(),
		HistoryDeferred:   c.deferred.Load(),
		HistoryPending:    c.pending.Load(),
		Duplicates:        c.skipped.Load(),
		GapFills:          c.gapFills.Load(),
		GapFilled:         c.gapFilled.Load(),
		GapFillErrors:     c.gapFillErrors.Load(),
		Control:           c.control.Load(),
		ControlMalformed:  c.controlMalformed.Load(),
		ControlUnknown:    c.controlUnknown.Load(),
		ControlDropped:    c.controlDropped.Load(),
		Disconnects:       c.disconnects.Load(),
		Disconnected:      c.disconnected.Load(),
		Dropped:           make(map[DropReason]uint64, len(c.dropped)),
		PublishToDelivery: c.latency.Snapshot(),
	}
	for r, n := range c.dropped {
		s.Dropped[r] = n.Load()
	}
	return s
}
