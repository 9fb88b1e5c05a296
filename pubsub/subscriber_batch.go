package pubsub

import (
	"context"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/message"
)

// dispatcher is the dispatcher goroutine's batch: the messages read, and
// prepared, since the last flush. A batch is stored in the history in one
// round trip before any of it is delivered, so that a message is in its
// site's history before any websocket can receive it: a client that
// registers after the delivery and then reads the history (?since=) finds
// it there.
type dispatcher struct {
	s       *Subscriber
	out     chan<- history.Entry // to the retry writer
	batch   []prepared
	entries []history.Entry // scratch: the entries of the batch sent to Redis
	sent    []int           // scratch: sent[j] is the index in batch of entries[j]
}

// prepared is a valid message of a batch, with its history entry.
type prepared struct {
	m     *message.Message
	entry history.Entry
	store storeState
}

// storeState is how far a prepared message got towards the history.
type storeState uint8

const (
	storeNone   storeState = iota // nothing to store (no History)
	storeWanted                   // not stored yet; after the round trip, for the retry writer
	storeDone                     // stored, already there, or refused for good
)

func newDispatcher(s *Subscriber, out chan<- history.Entry) *dispatcher {
	return &dispatcher{s: s, out: out, batch: make([]prepared, 0, s.cfg.HistoryBatch)}
}

// collect prepares it and the items queued behind it, up to HistoryBatch
// payloads, without waiting for more. It stops after a gap-fill marker and
// reports whether it met one: the fill runs once the payloads queued before
// the marker are dispatched.
func (d *dispatcher) collect(ctx context.Context, it item, in <-chan item) (marker bool) {
	for n := 1; ; n++ {
		if it.fill {
			return true
		}
		d.prepare(ctx, it.payload)
		if n >= d.s.cfg.HistoryBatch {
			return false
		}
		var ok bool
		select {
		case it, ok = <-in:
			if !ok {
				return false // the loop sees the closed channel next
			}
		default:
			return false
		}
	}
}

// prepare decodes, completes, validates and encodes one payload and adds it
// to the batch, unless it is dropped or a duplicate of a message dispatched
// recently (this batch included).
func (d *dispatcher) prepare(ctx context.Context, payload string) {
	s := d.s
	b := []byte(payload)
	m, err := message.Decode(b, s.cfg.MaxMessageSize)
	if err != nil {
		s.drop(decodeReason(err), err, payload)
		return
	}
	if m.ID == "" {
		// Derived from the bytes, so every gateway agrees and the history
		// stores the message once.
		m.ID = message.DeriveID(m.Timestamp, b)
	}
	if s.recent.has(m.ID) {
		s.stats.skipped.Add(1)
		s.log.Debug("pubsub: duplicate skipped", "id", m.ID, "host", m.Host)
		return
	}
	if !m.HasTarget() && s.cfg.Resolver != nil {
		if err := s.cfg.Resolver.Resolve(ctx, m); err != nil {
			s.drop(DropResolve, err, payload)
			return
		}
	}
	if err := m.Validate(); err != nil {
		s.drop(DropInvalid, err, payload)
		return
	}
	s.recent.add(m.ID) // it will be delivered: a copy later in the batch is a duplicate
	p := prepared{m: m}
	if s.store != nil {
		p.entry = history.Entry{Host: m.Host, ID: m.ID, Stored: m.StoredJSON()}
		p.store = storeWanted
	}
	d.batch = append(d.batch, p)
}

// flush stores the batch in the history, in one round trip bounded by
// StoreTimeout, then delivers it in order. Entries of sites with entries
// waiting in the retry writer are not sent (they must not overtake them);
// they, and the entries whose write failed with a retryable error or timed
// out, are delivered all the same (liveness first) and handed to the retry
// writer, which stores them later, in order (HistoryDeferred).
func (d *dispatcher) flush(ctx context.Context) {
	s := d.s
	defer func() {
		clear(d.batch) // let the messages and their bytes be collected
		d.batch = d.batch[:0]
	}()
	d.store(ctx)
	for i := range d.batch {
		p := &d.batch[i]
		s.deliver(p.m)
		if p.store == storeWanted {
			s.stats.deferred.Add(1)
			d.handOver(p.entry)
		}
	}
}

// store sends the entries of the batch that may be stored now and marks
// those stored (or refused for good) as done.
func (d *dispatcher) store(ctx context.Context) {
	s := d.s
	d.entries, d.sent = d.entries[:0], d.sent[:0]
	for i, p := range d.batch {
		if p.store == storeWanted && !s.pending.has(p.entry.Host) {
			d.entries = append(d.entries, p.entry)
			d.sent = append(d.sent, i)
		}
	}
	if len(d.entries) == 0 {
		return
	}
	defer clear(d.entries)
	sctx, cancel := context.WithTimeout(ctx, s.cfg.StoreTimeout)
	added, err := s.store.AppendBatch(sctx, d.entries)
	cancel()
	var retryErr error
	for j, i := range d.sent {
		p := &d.batch[i]
		switch err := history.EntryError(err, j); {
		case err == nil:
			s.countStored(added[j])
			p.store = storeDone
		case history.IsPermanent(err):
			s.drop(DropHistoryRejected, err, "")
			p.store = storeDone
		default:
			retryErr = err
		}
	}
	if retryErr != nil {
		s.limiter.Warn(s.log, "history_deferred", "pubsub: history write failed, delivering first and retrying",
			"entries", len(d.entries), "timeout", s.cfg.StoreTimeout, "err", retryErr)
	}
}

// handOver gives e to the retry writer without blocking; its site counts as
// pending until the writer settles it.
func (d *dispatcher) handOver(e history.Entry) {
	d.s.pending.add(e.Host)
	select {
	case d.out <- e:
	default:
		d.s.pending.done(e.Host)
		d.s.drop(DropHistoryQueueFull, nil, "")
	}
}
