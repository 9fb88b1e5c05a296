package pubsub

import "github.com/notifyd/notifyd/message"

// Sink receives every valid message the subscriber reads, with its push form
// (the message without target, encoded once for every recipient), once the
// message is in the history (unless its write failed or timed out: see
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

// ControlSink is implemented by a Sink that obeys control orders: the
// subscriber calls Disconnect for each disconnect order, from the goroutine
// that calls Deliver. Disconnect closes every connection whose principal is
// principal and returns how many it closed; it must not block. It is
// satisfied by *wsgateway.Gateway.
type ControlSink interface {
	Disconnect(principal string) int
}
