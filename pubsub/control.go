package pubsub

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// DefaultControlChannel is the Redis channel of control messages (orders to
// every gateway, such as disconnecting a principal).
const DefaultControlChannel = "notifyd:control"

// ActionDisconnect is the control action that closes every connection of a
// principal on every gateway.
const ActionDisconnect = "disconnect"

// maxControlSize bounds a control payload in bytes; larger ones are
// malformed. A disconnect order is well under 1 KiB.
const maxControlSize = 4096

// ControlMessage is an order published on the control channel, as JSON
// {"action":"disconnect","principal":"<id>","at":"<RFC3339Nano>"}. At is when
// the order was given; it is informative (logged) and may be absent.
type ControlMessage struct {
	Action    string    `json:"action"`
	Principal string    `json:"principal,omitempty"`
	At        time.Time `json:"at"`
}

// errControlMalformed is why a control payload is ignored as malformed.
var errControlMalformed = errors.New("pubsub: malformed control message")

// decodeControl parses a control payload. It returns errControlMalformed
// (wrapped) for a payload that is not a JSON object of the right shape, too
// large, without action, or a disconnect without principal. An unknown
// action is not an error here: the caller decides.
func decodeControl(payload string) (ControlMessage, error) {
	var c ControlMessage
	if len(payload) > maxControlSize {
		return c, fmt.Errorf("%w: %d bytes, limit %d", errControlMalformed, len(payload), maxControlSize)
	}
	var raw struct {
		Action    *string          `json:"action"`
		Principal *string          `json:"principal"`
		At        *json.RawMessage `json:"at"`
	}
	if err := json.Unmarshal([]byte(payload), &raw); err != nil {
		return c, fmt.Errorf("%w: %w", errControlMalformed, err)
	}
	if raw.Action == nil || *raw.Action == "" {
		return c, fmt.Errorf("%w: no action", errControlMalformed)
	}
	c.Action = *raw.Action
	if raw.Principal != nil {
		c.Principal = *raw.Principal
	}
	if raw.At != nil && string(*raw.At) != "null" {
		if err := json.Unmarshal(*raw.At, &c.At); err != nil {
			return ControlMessage{}, fmt.Errorf("%w: at: %w", errControlMalformed, err)
		}
	}
	if c.Action == ActionDisconnect && c.Principal == "" {
		return ControlMessage{}, fmt.Errorf("%w: disconnect without principal", errControlMalformed)
	}
	return c, nil
}
