package message

import "strings"

// Recipient is what delivery rules need to know about a reader: the site it is
// connected to, its own principal id and every principal it carries.
type Recipient struct {
	Host       string
	Principal  string
	Principals []string
}

// VisibleTo applies PyAMS's delivery rule, the same for live push, replay and
// REST history: the site equals the message host, the reader is not the sender,
// and the reader's principals intersect the target principals. Hosts compare
// case-insensitively (scheme and host names are case-insensitive).
func (m *Message) VisibleTo(r Recipient) bool {
	if !strings.EqualFold(m.Host, r.Host) || r.Principal == "" || r.Principal == m.SourceID() {
		return false
	}
	for _, t := range m.Principals() {
		for _, p := range r.Principals {
			if t == p {
				return true
			}
		}
	}
	return false
}

// After returns the messages of a newest-first list that are newer than the
// message with id since, in the list's order, and whether since was found. An
// empty since returns the whole list and found=true. When since is not in the
// list (it was trimmed away or never existed) the whole list is returned with
// found=false: the reader may have missed messages and should say so.
func After(newestFirst []*Message, since string) (newer []*Message, found bool) {
	if since == "" {
		return newestFirst, true
	}
	for i, m := range newestFirst {
		if m.ID == since {
			return newestFirst[:i], true
		}
	}
	return newestFirst, false
}
