package pubsub

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/message"
)

// DefaultControlChannel is the Redis channel of control messages (orders to
// every gateway, such as disconnecting a principal).
const DefaultControlChannel = "notifyd:control"

// Control actions.
const (
	// ActionDisconnect is the control action that closes every connection
	// of a principal on every gateway.
	ActionDisconnect = "disconnect"
	// ActionInbox tells every gateway a user's new counts on a site
	// (InboxSink.InboxChanged).
	ActionInbox = "inbox"
	// ActionPrefs tells every gateway a user's new preferences on a site
	// (InboxSink.PrefsChanged).
	ActionPrefs = "prefs"
)

// Control message bounds: what the subscriber reads from the control
// channel, and what the Announcer publishes, stays within them.
const (
	// maxControlSize bounds a control payload in bytes; larger ones are
	// malformed. The largest, a prefs message with MaxMuted entries of
	// MaxMutedLength bytes, is under 20 KiB.
	maxControlSize = 32 << 10
	// maxHostLength bounds the host of an inbox or prefs message.
	maxHostLength = 1024
	// MaxMuted bounds how many muted categories a prefs message carries:
	// as many as the history keeps (history.MaxMuted), so every saved
	// preference can be announced.
	MaxMuted = history.MaxMuted
	// MaxMutedLength bounds the length in bytes of a muted category
	// (history.MaxPatternLength).
	MaxMutedLength = history.MaxPatternLength
	// maxCount bounds the unread and unseen counts of an inbox message.
	maxCount = 1 << 30
)

// ControlMessage is an order published on the control channel, as JSON:
//
//	{"action":"disconnect","principal":"<id>","at":"<RFC3339Nano>"}
//	{"action":"inbox","host":"<host>","user":"<sub>","unread":N,"unseen":M}
//	{"action":"prefs","host":"<host>","user":"<sub>","muted":["content.review","site.*"]}
//
// At is when the order was given; it is informative (logged) and may be
// absent.
type ControlMessage struct {
	Action    string    `json:"action"`
	Principal string    `json:"principal,omitempty"`
	At        time.Time `json:"at"`
	Host      string    `json:"host,omitempty"`
	User      string    `json:"user,omitempty"`
	Unread    int       `json:"unread,omitempty"`
	Unseen    int       `json:"unseen,omitempty"`
	Muted     []string  `json:"muted,omitempty"`
}

// errControlMalformed is why a control payload is ignored as malformed.
var errControlMalformed = errors.New("pubsub: malformed control message")

// decodeControl parses a control payload. It returns errControlMalformed
// (wrapped) for a payload that is not a JSON object of the right shape, too
// large, without action, a disconnect without principal (or with one over
// 1024 bytes, as Revocations accepts), or an inbox or
// prefs message out of bounds (checkInbox). An unknown action is not an
// error here: the caller decides.
func decodeControl(payload string) (ControlMessage, error) {
	var c ControlMessage
	if len(payload) > maxControlSize {
		return c, fmt.Errorf("%w: %d bytes, limit %d", errControlMalformed, len(payload), maxControlSize)
	}
	var raw struct {
		Action    *string          `json:"action"`
		Principal *string          `json:"principal"`
		At        *json.RawMessage `json:"at"`
		Host      string           `json:"host"`
		User      string           `json:"user"`
		Unread    int              `json:"unread"`
		Unseen    int              `json:"unseen"`
		Muted     []string         `json:"muted"`
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
	c.Host, c.User, c.Unread, c.Unseen, c.Muted = raw.Host, raw.User, raw.Unread, raw.Unseen, raw.Muted
	switch c.Action {
	case ActionDisconnect:
		if c.Principal == "" || len(c.Principal) > maxPrincipalBytes {
			return ControlMessage{}, fmt.Errorf("%w: disconnect without principal, or one over %d bytes",
				errControlMalformed, maxPrincipalBytes)
		}
	case ActionInbox, ActionPrefs:
		if err := checkInbox(c); err != nil {
			return ControlMessage{}, fmt.Errorf("%w: %w", errControlMalformed, err)
		}
	}
	return c, nil
}

// checkInbox checks the fields of an inbox or prefs message: a host and a
// user within bounds, counts in [0, 2^30], at most MaxMuted non-empty muted
// categories of at most MaxMutedLength bytes. Its errors match
// message.ErrInvalid.
func checkInbox(c ControlMessage) error {
	switch {
	case c.Host == "" || len(c.Host) > maxHostLength:
		return &message.FieldError{Field: "host", Reason: fmt.Sprintf("must have 1 to %d bytes", maxHostLength)}
	case c.User == "" || len(c.User) > message.MaxPrincipalLength:
		return &message.FieldError{Field: "user", Reason: fmt.Sprintf("must have 1 to %d bytes", message.MaxPrincipalLength)}
	case c.Unread < 0 || c.Unread > maxCount || c.Unseen < 0 || c.Unseen > maxCount:
		return &message.FieldError{Field: "unread", Reason: fmt.Sprintf("counts must be in [0, %d]", maxCount)}
	case len(c.Muted) > MaxMuted:
		return &message.FieldError{Field: "muted", Reason: fmt.Sprintf("has more than %d entries", MaxMuted)}
	}
	for _, m := range c.Muted {
		if m == "" || len(m) > MaxMutedLength {
			return &message.FieldError{Field: "muted", Reason: fmt.Sprintf("entries must have 1 to %d bytes", MaxMutedLength)}
		}
	}
	return nil
}
