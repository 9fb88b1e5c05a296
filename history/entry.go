package history

import (
	"fmt"
	"strings"

	"github.com/notifyd/notifyd/message"
)

// Entry is one message to store: its site, its id, its stored form (with
// target, as message.AppendJSON(nil, true) writes it) and its timestamp.
type Entry struct {
	Host   string
	ID     string
	Stored []byte
	// Timestamp is remembered with the id for the DedupWindow, so that a
	// duplicate learns the first one's (Result.Timestamp). Optional.
	Timestamp string
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
