package pubsub

import (
	"context"

	"github.com/notifyd/notifyd/message"
)

// Resolver computes the target of a message that has none. It is satisfied by
// *handler.Registry. Resolve must leave a message that already has a target
// unchanged, and must be safe for concurrent use. A nil Resolver in a config
// means no resolution: messages keep whatever target they carry.
type Resolver interface {
	Resolve(ctx context.Context, m *message.Message) error
}
