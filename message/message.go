package message

import (
	"encoding/json"
	"slices"
	"time"
)

// Message is a PyAMS ChatMessage plus the notifyd id.
//
// Optional PyAMS fields that are JSON null (image, url) are held as empty strings;
// a nil Source encodes as null and a nil Target as {}.
type Message struct {
	Host     string // site the message belongs to: scheme://host[:port]
	Channel  string // Redis pubsub channel it travels on
	Action   string // what clients do with it; browsers render "notify"
	Category string // selects the handler that computes the target
	Status   string // info, success, warning, danger (free text)
	Title    string // one line
	Body     string // the "message" key: free, possibly multi-line text
	Image    string // absolute URI, or "" for null
	Source   *Source
	Target   *Target
	URL      string // link of the notification, or "" for null
	Modal    bool   // open URL in a modal
	// Timestamp is UTC ISO-8601 as Python's isoformat writes it.
	Timestamp string
	// ID is notifyd's unique, time-sortable identifier (see IDGen and DeriveID).
	ID string
	// Extra holds every key that is not one of the above, verbatim, so that
	// producers' additions survive a round trip. Keys are encoded in sorted order.
	Extra map[string]json.RawMessage
}

// Source identifies the principal that sent a message.
type Source struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Avatar string `json:"avatar,omitempty"`
}

// Target lists the principals a message is meant for, and the extra keys
// from which they were computed.
type Target struct {
	Principals []string `json:"principals"`
	// Keys names the extra keys of the message (Message.Extra) that are part
	// of its target: keys a handler rule read to compute Principals (such as
	// "recipient"). They are kept in the stored form, inside target, and left
	// out of the push form with the target itself, so that recipients never
	// see who else a message was sent to. Nil when there are none.
	Keys []string `json:"keys,omitempty"`
}

// TargetKeys returns the extra keys that are part of the target (see
// Target.Keys), or nil.
func (m *Message) TargetKeys() []string {
	if m.Target == nil {
		return nil
	}
	return m.Target.Keys
}

// Well-known principals that every connection carries.
const (
	// Everyone is carried by every connection, authenticated or not.
	Everyone = "system.Everyone"
	// Authenticated is carried by every connection with a valid token.
	Authenticated = "system.Authenticated"
	// Admin is PyAMS's built-in administrator.
	Admin = "system:admin"
)

// TimestampLayout is the layout of timestamps notifyd writes: Python's
// datetime.now(timezone.utc).isoformat() with microseconds.
const TimestampLayout = "2006-01-02T15:04:05.000000-07:00"

// FormatTimestamp renders t in UTC with TimestampLayout.
func FormatTimestamp(t time.Time) string {
	return t.UTC().Format(TimestampLayout)
}

// ParseTimestamp parses an ISO-8601 timestamp with an offset, with or without
// fractional seconds (Python omits them when microseconds are zero).
func ParseTimestamp(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, s)
}

// SourceID returns the sender's principal id, or "" when the message has no source.
func (m *Message) SourceID() string {
	if m.Source == nil {
		return ""
	}
	return m.Source.ID
}

// Principals returns the target principals, or nil when there is no target.
func (m *Message) Principals() []string {
	if m.Target == nil {
		return nil
	}
	return m.Target.Principals
}

// HasTarget reports whether the message names at least one target principal.
func (m *Message) HasTarget() bool {
	return len(m.Principals()) > 0
}

// Clone returns a deep copy of m.
func (m *Message) Clone() *Message {
	c := *m
	if m.Source != nil {
		s := *m.Source
		c.Source = &s
	}
	if m.Target != nil {
		c.Target = &Target{Principals: append([]string(nil), m.Target.Principals...), Keys: slices.Clone(m.Target.Keys)}
	}
	if m.Extra != nil {
		c.Extra = make(map[string]json.RawMessage, len(m.Extra))
		for k, v := range m.Extra {
			c.Extra[k] = append(json.RawMessage(nil), v...)
		}
	}
	return &c
}
