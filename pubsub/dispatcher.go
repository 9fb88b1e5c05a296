package pubsub

import (
	"context"
	"errors"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/message"
)

// entryStore is what the dispatcher and the retry writer store entries
// into: the SubscriberHistory, or, in tests, a fake that fails the sites it
// is told to.
type entryStore interface {
	AppendBatch(ctx context.Context, entries []history.Entry) (added []bool, err error)
}

// historyLister is what gap fills read: the SubscriberHistory.
type historyLister interface {
	ListMany(ctx context.Context, hosts []string) (lists [][]*message.Message, errs []error)
}

// dispatcher is the state of the dispatcher goroutine. It turns raw
// payloads into messages for the sink, in batches: a batch is stored in the
// history in one round trip before any of it is delivered, so that a
// message is in its site's history before any websocket can receive it (a
// client that registers after the delivery and then reads the history,
// ?since=, finds it there). It also runs gap fills and obeys control
// orders: the sink's methods are only called from its goroutine.
type dispatcher struct {
	// immutable after newDispatcher
	cfg      SubscriberConfig
	store    entryStore    // nil: no history writes
	lists    historyLister // nil: no gap fills (without a DeliveryChannel)
	since    siteReader    // gap fills with a DeliveryChannel; nil: none
	inbox    bool          // a DeliveryChannel: store the intake, deliver deliveries only
	sink     Sink
	bsink    BatchSink // sink, when it is one; nil otherwise
	deferred bool      // bsink has deliveries not yet ended (endBatch)
	rep      *reporter
	out      chan<- history.Entry   // to the retry writer
	intake   chan<- []history.Entry // to the storer, with a DeliveryChannel; nil without
	pending  *pendingSites          // shared with the retry writer; safe for concurrent use
	fills    *fillQueue             // shared with the read loop; nil without lists

	// owned by the dispatcher goroutine
	filling bool         // a gap fill is delivering: no publish-to-delivery latency
	recent  *recentIDs   // recently dispatched ids
	fresh   *storedCache // with a DeliveryChannel: intake sent to the storer, until delivered; nil without
	sites   *siteIDs     // last dispatched id per site
	batch   []prepared
	entries []history.Entry // scratch: the entries of the batch sent to Redis
	sent    []int           // scratch: sent[j] is the index in batch of entries[j]
}

func newDispatcher(cfg SubscriberConfig, store entryStore, lists historyLister, since siteReader, sink Sink,
	rep *reporter, out chan<- history.Entry, intake chan<- []history.Entry) *dispatcher {
	d := &dispatcher{
		cfg: cfg, store: store, lists: lists, since: since, inbox: cfg.inbox(), sink: sink, rep: rep, out: out,
		intake:  intake,
		pending: newPendingSites(&rep.stats.pending),
		recent:  newRecentIDs(cfg.RecentIDs),
		sites:   newSiteIDs(cfg.GapFillSites),
		batch:   make([]prepared, 0, cfg.HistoryBatch),
	}
	d.bsink, _ = sink.(BatchSink)
	if d.inbox && store != nil {
		d.fresh = newStoredCache(storedCacheBatches * cfg.HistoryBatch)
	}
	if (!d.inbox && lists != nil) || (d.inbox && since != nil) {
		d.fills = &fillQueue{}
	}
	return d
}

// run dispatches, in batches, what the read loop queues on in, runs the gap
// fills whose markers it meets, and obeys control payloads, until in and
// ctl are closed. It takes one batch at a time from in, so that control
// payloads are not held behind a long queue. It hands the history entries
// it could not store to the retry writer, never blocking on it. Once stop
// is closed (Run is stopping) gap fills are skipped.
func (d *dispatcher) run(ctx context.Context, stop <-chan struct{}, in *itemQueue, ctl <-chan string) {
	bo := d.cfg.newBackoff()
	retry := stoppedTimer()
	defer retry.Stop()
	fill := func() {
		select {
		case <-stop:
			return
		default:
		}
		if d.runFill(ctx) {
			bo.Reset()
			return
		}
		retry.Reset(bo.Next()) // some sites failed; they are pending again
	}
	ready := in.ready
	var taken []item
	for ready != nil || ctl != nil {
		select {
		case <-ready:
			var done bool
			taken, done = in.take(taken[:0], d.cfg.HistoryBatch)
			if done {
				ready = nil
			}
			if len(taken) == 0 {
				continue
			}
			marker := d.collect(ctx, taken)
			clear(taken)
			d.flush(ctx)
			d.endBatch()
			if marker {
				d.fills.queued.Store(false) // before take: see fillQueue.request
				fill()
				d.endBatch()
			}
		case payload, ok := <-ctl:
			if !ok {
				ctl = nil
				continue
			}
			d.control(payload)
		case <-retry.C:
			fill()
			d.endBatch()
		}
	}
}

// deliver hands a valid message to the sink with its push form, and
// remembers its id, for duplicates, and as its site's last for gap fills.
// Outside gap fills it records the message's age, now minus its timestamp
// (Stats.PublishToDelivery).
func (d *dispatcher) deliver(m *message.Message) {
	if d.bsink != nil {
		d.bsink.DeliverDeferred(m, m.PushJSON())
		d.deferred = true
	} else {
		d.sink.Deliver(m, m.PushJSON())
	}
	d.rep.stats.delivered.Add(1)
	if !d.filling {
		if ts, err := message.ParseTimestamp(m.Timestamp); err == nil {
			d.rep.stats.latency.Since(ts)
		}
	}
	d.recent.add(m.ID)
	d.sites.set(m.Host, m.ID)
}

// endBatch ends the sink's batch (BatchSink) if it has deliveries: before
// any other call to the sink, and after each batch.
func (d *dispatcher) endBatch() {
	if d.deferred {
		d.deferred = false
		d.bsink.EndBatch()
	}
}

// control obeys one control payload.
func (d *dispatcher) control(payload string) {
	d.endBatch()
	stats := d.rep.stats
	c, err := decodeControl(payload)
	if err != nil {
		stats.controlMalformed.Add(1)
		d.rep.warn("control_malformed", "pubsub: control message ignored",
			"reason", "malformed", "err", err, "bytes", len(payload), "payload", truncate(payload, logPayloadBytes))
		return
	}
	switch c.Action {
	case ActionDisconnect:
		cs, ok := d.sink.(ControlSink)
		if !ok {
			d.rep.log.Debug("pubsub: disconnect order ignored: the sink is not a ControlSink", "principal", c.Principal)
			return
		}
		n := cs.Disconnect(c.Principal)
		stats.disconnects.Add(1)
		stats.disconnected.Add(uint64(max(n, 0)))
		d.rep.log.Info("pubsub: disconnect order", "principal", c.Principal, "connections", n, "at", c.At)
	case ActionInbox, ActionPrefs:
		is, ok := d.sink.(InboxSink)
		if !ok {
			d.rep.log.Debug("pubsub: inbox control message ignored: the sink is not an InboxSink", "action", c.Action)
			return
		}
		if c.Action == ActionInbox {
			is.InboxChanged(c.Host, c.User, history.Counts{Unread: c.Unread, Unseen: c.Unseen})
			stats.inboxChanges.Add(1)
		} else {
			is.PrefsChanged(c.Host, c.User, history.Prefs{Muted: c.Muted})
			stats.prefsChanges.Add(1)
		}
	default:
		stats.controlUnknown.Add(1)
		d.rep.warn("control_unknown", "pubsub: control message ignored",
			"reason", "unknown action", "action", truncate(c.Action, 64))
	}
}

func decodeReason(err error) DropReason {
	switch {
	case errors.Is(err, message.ErrTooLarge):
		return DropTooLarge
	case errors.Is(err, message.ErrInvalid):
		return DropInvalid
	default:
		return DropMalformed
	}
}
