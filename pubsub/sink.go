package pubsub

import (
	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/message"
)

// Sink receives every valid message the subscriber reads, with its push form
// (the message without target, encoded once for every recipient), once the
// message is in the history (unless its write failed or timed out: see
// StoreTimeout). Deliver is called from one goroutine, must not block, and
// must not modify m or push. It is satisfied by *wsgateway.Gateway.
//
// With a DeliveryChannel, Deliver gets only what arrives on it: each
// message once stored, in the order its site stored it.
//
// A Sink may also implement ControlSink (to obey disconnect orders),
// SiteLister (so that gap fills cover the sites of its live connections),
// ChangeSink (updates and retracts of stored messages) and InboxSink
// (users' counts and preferences changed on any gateway).
type Sink interface {
	Deliver(m *message.Message, push []byte)
}

// BatchSink is implemented by a Sink that can wake its connections once
// per dispatcher batch instead of once per message: DeliverDeferred is
// Deliver, except that the sink may leave the effect it has on its
// connections' writers (their wake-up) until the next EndBatch. The
// dispatcher calls EndBatch after each batch it delivered messages in, and
// before any other call that sends to the sink's connections (updates,
// retracts, control messages), from the goroutine that calls Deliver;
// neither may block. Under load, a connection that gets several
// messages of one batch then writes them in one syscall, and the
// dispatcher is not queued behind thousands of woken writers between two
// messages. It is satisfied by *wsgateway.Gateway.
type BatchSink interface {
	DeliverDeferred(m *message.Message, push []byte)
	EndBatch()
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

// ControlSink is implemented by a Sink that obeys control orders: the
// subscriber calls Disconnect for each disconnect order, from the goroutine
// that calls Deliver. Disconnect closes every connection whose principal is
// principal and returns how many it closed; it must not block. It is
// satisfied by *wsgateway.Gateway.
type ControlSink interface {
	Disconnect(principal string) int
}

// ChangeSink is implemented by a Sink that passes changes of stored
// messages on to its connections (with a DeliveryChannel): DeliverUpdate
// gets the message's new stored form and its push form, encoded once;
// DeliverRetract the stored form of the message retracted. They are called
// from the goroutine that calls Deliver, must not block, and must not
// modify m or push. It is satisfied by *wsgateway.Gateway.
type ChangeSink interface {
	DeliverUpdate(m *message.Message, push []byte)
	DeliverRetract(m *message.Message)
}

// InboxSink is implemented by a Sink that keeps its connections' inbox
// state: the subscriber calls InboxChanged for each inbox control message
// (a user's new counts on a site, after a read, unread, seen or retract
// made on any gateway) and PrefsChanged for each prefs control message (a
// user's new preferences on a site), from the goroutine that calls Deliver.
// They must not block. It is satisfied by *wsgateway.Gateway.
type InboxSink interface {
	InboxChanged(host, user string, c history.Counts)
	PrefsChanged(host, user string, p history.Prefs)
}
