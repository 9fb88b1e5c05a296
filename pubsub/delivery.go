package pubsub

import (
	"context"
	"errors"
	"fmt"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/message"
)

// siteReader is what gap fills read with a DeliveryChannel: the site's
// stored messages after a sequence number, oldest first. *history.Store
// satisfies it.
type siteReader interface {
	SiteSince(ctx context.Context, host string, seq int64, limit int) ([]history.Delivery, error)
}

// errDeliveryMalformed is why a delivery payload is dropped.
var errDeliveryMalformed = errors.New("pubsub: malformed delivery")

// deliverPayload delivers one payload of the delivery channel: a message
// this dispatcher prepared from the intake as it is (see storedCache),
// anything else decoded.
func (d *dispatcher) deliverPayload(payload string) {
	kind, seq, stored, err := history.CutDelivery(payload)
	if err != nil {
		d.rep.drop(DropDeliveryMalformed, err, payload)
		return
	}
	if kind == history.DeliveryMessage && d.fresh != nil {
		if m := d.fresh.take(stored); m != nil {
			if d.deliverMessage(m, seq) {
				d.rep.stats.reused.Add(1)
			}
			return
		}
	}
	d.deliverStored(history.Delivery{Kind: kind, Seq: seq, Stored: []byte(stored)})
}

// deliverStored decodes the stored form of dl once and passes it on: a
// message to Sink.Deliver with its push form (unless delivered recently),
// an update or a retract to the ChangeSink, if any. It reports whether a
// message was delivered.
func (d *dispatcher) deliverStored(dl history.Delivery) bool {
	m, err := message.Decode(dl.Stored, d.cfg.MaxMessageSize)
	if err == nil && (m.ID == "" || m.Host == "") {
		err = fmt.Errorf("%w: stored form without id or host", errDeliveryMalformed)
	}
	if err != nil {
		d.rep.drop(DropDeliveryMalformed, err, string(dl.Stored))
		return false
	}
	switch dl.Kind {
	case history.DeliveryMessage:
		return d.deliverMessage(m, dl.Seq)
	case history.DeliveryUpdate, history.DeliveryRetract:
		d.endBatch()
		cs, ok := d.sink.(ChangeSink)
		if !ok {
			return false
		}
		if dl.Kind == history.DeliveryUpdate {
			cs.DeliverUpdate(m, m.PushJSON())
			d.rep.stats.updated.Add(1)
		} else {
			cs.DeliverRetract(m)
			d.rep.stats.retracted.Add(1)
		}
	default:
		d.rep.drop(DropDeliveryMalformed, fmt.Errorf("%w: kind %q", errDeliveryMalformed, dl.Kind), "")
	}
	return false
}

// deliverMessage delivers m, stored as seq of its site, unless it was
// delivered recently, and reports whether it was.
func (d *dispatcher) deliverMessage(m *message.Message, seq int64) bool {
	if d.recent.has(m.ID) {
		d.rep.stats.skipped.Add(1)
		d.rep.log.Debug("pubsub: duplicate delivery skipped", "id", m.ID, "host", m.Host, "seq", seq)
		return false
	}
	d.deliver(m)
	d.sites.setSeq(m.Host, seq)
	return true
}
