package history

import (
	"fmt"
	"strings"

	"github.com/notifyd/notifyd/message"
)

// Entry is one message to store: its site, its id, its stored form (with
// target, as message.AppendJSON(nil, true) writes it) and its timestamp;
// with the inbox on, also who it is for, who sent it and its category
// (EntryOf fills every field from the message).
type Entry struct {
	Host   string
	ID     string
	Stored []byte
	// Timestamp is remembered with the id for the DedupWindow, so that a
	// duplicate learns the first one's (Result.Timestamp). Optional.
	Timestamp string
	// Principals is the resolved target: the entry is indexed once under
	// each of them (inbox only). None: stored and delivered, in no inbox.
	Principals []string
	// Sender is the sender's principal (message.SourceID): never shown
	// the message in its own inbox, never counted for it.
	Sender string
	// Category is the message's category, for the inbox's filters and
	// muted preferences.
	Category string
}

// EntryOf returns the entry of message m whose stored form is stored.
func EntryOf(m *message.Message, stored []byte) Entry {
	return Entry{
		Host: m.Host, ID: m.ID, Stored: stored, Timestamp: m.Timestamp,
		Principals: m.Principals(), Sender: m.SourceID(), Category: m.Category,
	}
}

// checkEntry rejects what would break exactly-once storage: an empty id, and
// braces in the host, which would move the seen key's Cluster hash tag.
func checkEntry(host, id string) error {
	if id == "" {
		return fmt.Errorf("history: append: %w", &message.FieldError{Field: "id", Reason: "is required"})
	}
	if strings.ContainsAny(host, "{}") {
		return fmt.Errorf("history: append: %w", &message.FieldError{Field: "host", Reason: "must not contain braces"})
	}
	return nil
}

// checkInboxEntry adds the inbox's rules: the index of each principal and
// the body's list of principals ("\n"-separated) need principals without
// newlines, and ids without whitespace (a delivery is "<kind> <seq>
// <stored>", a cursor an id).
func checkInboxEntry(e Entry) error {
	if strings.ContainsAny(e.ID, " \t\r\n") {
		return fmt.Errorf("history: append: %w", &message.FieldError{Field: "id", Reason: "must not contain whitespace"})
	}
	for _, p := range e.Principals {
		if p == "" || strings.ContainsAny(p, "\r\n") {
			return fmt.Errorf("history: append: %w", &message.FieldError{Field: "target.principals", Reason: "must not contain empty entries or newlines"})
		}
	}
	return nil
}
