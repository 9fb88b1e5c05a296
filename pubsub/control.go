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

// ControlSink is implemented by a Sink that obeys control orders: the
// subscriber calls Disconnect for each disconnect order, from the goroutine
// that calls Deliver. Disconnect closes every connection whose principal is
// principal and returns how many it closed; it must not block. It is
// satisfied by *wsgateway.Gateway.
type ControlSink interface {
	Disconnect(principal string) int
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

// handleControl obeys one control payload. It runs on the dispatcher
// goroutine, like Sink.Deliver.
func (s *Subscriber) handleControl(payload string) {
	c, err := decodeControl(payload)
	if err != nil {
		s.stats.controlMalformed.Add(1)
		s.limiter.Warn(s.log, "control_malformed", "pubsub: control message ignored",
			"reason", "malformed", "err", err, "bytes", len(payload), "payload", truncate(payload, logPayloadBytes))
		return
	}
	switch c.Action {
	case ActionDisconnect:
		cs, ok := s.sink.(ControlSink)
		if !ok {
			s.log.Debug("pubsub: disconnect order ignored: the sink is not a ControlSink", "principal", c.Principal)
			return
		}
		n := cs.Disconnect(c.Principal)
		s.stats.disconnects.Add(1)
		s.stats.disconnected.Add(uint64(max(n, 0)))
		s.log.Info("pubsub: disconnect order", "principal", c.Principal, "connections", n, "at", c.At)
	default:
		s.stats.controlUnknown.Add(1)
		s.limiter.Warn(s.log, "control_unknown", "pubsub: control message ignored",
			"reason", "unknown action", "action", truncate(c.Action, 64))
	}
}
