package pubsub

import (
	"context"
	"fmt"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/message"
)

// prepared is a valid message of a batch, with its history entry.
type prepared struct {
	m     *message.Message
	entry history.Entry
	store storeState
}

// storeState is how far a prepared message got towards the history.
type storeState uint8

const (
	storeNone   storeState = iota // nothing to store (no history)
	storeWanted                   // not stored yet; after the round trip, for the retry writer
	storeDone                     // stored, already there, or refused for good
)

// collect prepares the items taken from the queue (up to HistoryBatch,
// ending with a gap-fill marker if they hold one) and reports whether the
// last is a marker: the fill runs once the payloads before it are
// dispatched. Deliveries (with a DeliveryChannel) are delivered at once, in
// order: the batch only holds intake messages, which are stored, not
// delivered.
func (d *dispatcher) collect(ctx context.Context, items []item) (marker bool) {
	for _, it := range items {
		switch {
		case it.fill:
			return true
		case it.delivery:
			d.deliverPayload(it.payload)
		default:
			d.prepare(ctx, it.payload)
		}
	}
	return false
}

// prepare decodes, completes, validates and encodes one payload and adds it
// to the batch, unless it is dropped or a duplicate of a message dispatched
// recently (this batch included).
func (d *dispatcher) prepare(ctx context.Context, payload string) {
	b := []byte(payload)
	m, err := message.Decode(b, d.cfg.MaxMessageSize)
	if err != nil {
		d.rep.drop(decodeReason(err), err, payload)
		return
	}
	if m.ID == "" {
		// Derived from the bytes, so every gateway agrees and the history
		// stores the message once.
		m.ID = message.DeriveID(m.Timestamp, b)
	}
	if d.recent.has(m.ID) {
		d.rep.stats.skipped.Add(1)
		d.rep.log.Debug("pubsub: duplicate skipped", "id", m.ID, "host", m.Host)
		return
	}
	// Always, as the Publisher: the Resolver keeps an existing target but
	// records the keys its rule reads, stripped from the push form.
	if d.cfg.Resolver != nil {
		if err := d.cfg.Resolver.Resolve(ctx, m); err != nil {
			d.rep.drop(DropResolve, err, payload)
			return
		}
	}
	if err := m.Validate(); err != nil {
		d.rep.drop(DropInvalid, err, payload)
		return
	}
	if !d.inbox {
		// It will be delivered: a copy later in the batch is a duplicate.
		// (With a DeliveryChannel the id is remembered when its delivery
		// arrives; a copy in the batch is stored once all the same.)
		d.recent.add(m.ID)
	}
	p := prepared{m: m}
	if d.store != nil {
		// The id and a resolved target can make the stored form larger
		// than the payload: over the limit, no gateway would deliver it
		// (a delivery is decoded within MaxMessageSize) nor a history
		// read return it, so it is not stored, as the Publisher refuses it.
		stored := m.StoredJSON()
		if d.cfg.MaxMessageSize > 0 && len(stored) > d.cfg.MaxMessageSize {
			d.rep.drop(DropTooLarge, fmt.Errorf("%w: stored form of %d bytes, limit %d",
				message.ErrTooLarge, len(stored), d.cfg.MaxMessageSize), payload)
			return
		}
		p.entry = history.EntryOf(m, stored)
		p.store = storeWanted
		if d.fresh != nil {
			d.fresh.add(stored, m)
		}
	}
	d.batch = append(d.batch, p)
}

// flush stores the batch in the history, in one round trip bounded by
// StoreTimeout, then delivers it in order. Entries of sites with entries
// waiting in the retry writer are not sent (they must not overtake them);
// they, and the entries whose write failed with a retryable error or timed
// out, are delivered all the same (liveness first) and handed to the retry
// writer, which stores them later, in order (HistoryDeferred). With a
// DeliveryChannel the batch goes to the storer instead (the store that wins
// publishes the delivery), and the dispatcher goes on without waiting.
func (d *dispatcher) flush(ctx context.Context) {
	defer func() {
		clear(d.batch) // let the messages and their bytes be collected
		d.batch = d.batch[:0]
	}()
	if d.inbox {
		d.sendIntake()
		return
	}
	d.storeBatch(ctx)
	for i := range d.batch {
		p := &d.batch[i]
		d.deliver(p.m)
		if p.store == storeWanted {
			d.rep.stats.deferred.Add(1)
			handOver(d.pending, d.out, d.rep, p.entry)
		}
	}
}

// sendIntake hands the entries of the batch to the storer, in order. It
// waits only when intakeBatches batches are waiting already.
func (d *dispatcher) sendIntake() {
	if len(d.batch) == 0 {
		return
	}
	entries := make([]history.Entry, 0, len(d.batch))
	for _, p := range d.batch {
		if p.store == storeWanted {
			entries = append(entries, p.entry)
		}
	}
	d.intake <- entries
}

// storeBatch sends the entries of the batch that may be stored now and marks
// those stored (or refused for good) as done.
func (d *dispatcher) storeBatch(ctx context.Context) {
	d.entries, d.sent = d.entries[:0], d.sent[:0]
	for i, p := range d.batch {
		if p.store == storeWanted && !d.pending.has(p.entry.Host) {
			d.entries = append(d.entries, p.entry)
			d.sent = append(d.sent, i)
		}
	}
	if len(d.entries) == 0 {
		return
	}
	defer clear(d.entries)
	sctx, cancel := context.WithTimeout(ctx, d.cfg.StoreTimeout)
	added, err := d.store.AppendBatch(sctx, d.entries)
	cancel()
	var retryErr error
	for j, i := range d.sent {
		p := &d.batch[i]
		switch err := history.EntryError(err, j); {
		case err == nil:
			d.rep.stored(added[j])
			p.store = storeDone
		case history.IsPermanent(err):
			d.rep.drop(DropHistoryRejected, err, "")
			p.store = storeDone
		default:
			retryErr = err
		}
	}
	if retryErr != nil {
		d.rep.warn("history_deferred", "pubsub: history write failed, delivering first and retrying",
			"entries", len(d.entries), "timeout", d.cfg.StoreTimeout, "err", retryErr)
	}
}
