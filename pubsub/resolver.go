package pubsub

import (
	"context"

	"github.com/notifyd/notifyd/message"
)

// Resolver computes the target of a message that has none. It is satisfied by
// *handler.Registry. It is called for every message, with a target or not:
// Resolve must leave existing target principals unchanged; it may record
// target keys (message.Target.Keys, the extra keys its rule read, which
// are stripped from what recipients get). It must be safe for concurrent
// use. A nil Resolver in a config means no resolution: messages keep
// whatever target they carry.
type Resolver interface {
	Resolve(ctx context.Context, m *message.Message) error
}
