package space

import (
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/protocol"
	"github.com/notifyd/notifyd/site"
)

// Field limits.
const (
	MaxBody        = 16 << 10 // bytes of a message body
	MaxTitle       = 200      // bytes of a space or message title, one line
	MaxEmoji       = 32       // bytes of an emoji (or short code)
	MaxPrincipal   = message.MaxPrincipalLength
	MaxName        = 100 // bytes of an attachment or guest name
	MaxAttachments = 10
	maxURL         = 2048 // bytes of an attachment URL or thumbnail
	maxAttrib      = 255  // bytes of an attachment id, type or MIME type
	maxSpaceID     = 64
	guestPrefix    = "guest:"
)

// textOK reports whether s is valid UTF-8 without control characters
// (newline, carriage return and tab allowed when multiline).
func textOK(s string, multiline bool) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return false
		}
	}
	return true
}

// checkLine checks a one-line text of at most max bytes; required says
// whether it may be empty.
func checkLine(op, field, s string, max int, required bool) error {
	switch {
	case s == "" && required:
		return invalid(op, field, "is required")
	case len(s) > max:
		return invalid(op, field, "is longer than %d bytes", max)
	case !textOK(s, false):
		return invalid(op, field, "must be one line of UTF-8 text without control characters")
	case required && strings.TrimSpace(s) == "":
		return invalid(op, field, "is blank")
	}
	return nil
}

// checkBody checks a message body.
func checkBody(op, body string, required bool) error {
	switch {
	case required && strings.TrimSpace(body) == "":
		return invalid(op, "body", "is required")
	case len(body) > MaxBody:
		return invalid(op, "body", "is longer than %d bytes", MaxBody)
	case !textOK(body, true):
		return invalid(op, "body", "must be UTF-8 text without control characters other than newline and tab")
	}
	return nil
}

// checkPrincipal checks a principal named as a member, a target of Direct
// or an assignee. Space principals ("space:") and the system principals
// ("system.") are never members.
func checkPrincipal(op, field, p string) error {
	if err := checkLine(op, field, p, MaxPrincipal, true); err != nil {
		return err
	}
	if strings.HasPrefix(p, protocol.SpacePrincipalPrefix) || strings.HasPrefix(p, "system.") || strings.HasPrefix(p, "system:") {
		return invalid(op, field, "%q is not a user principal", p)
	}
	return nil
}

// checkCaller validates c's host and principal, and cleans its title
// rather than refusing it (it comes from a token's name claim, which the
// user may not be able to change): invalid UTF-8 and control characters
// become spaces, and it is cut to MaxTitle bytes on a character boundary.
func checkCaller(op string, c *Caller) error {
	if err := message.ValidateHost(c.Host); err != nil || strings.ContainsAny(c.Host, "{}") || len(c.Host) > site.MaxLength {
		return invalid(op, "host", "must be an origin such as https://example.com")
	}
	if err := checkLine(op, "caller", c.Principal, MaxPrincipal, true); err != nil {
		return err
	}
	if strings.HasPrefix(c.Principal, protocol.SpacePrincipalPrefix) {
		return invalid(op, "caller", "a space principal cannot act")
	}
	c.Title = cleanTitle(c.Title)
	return nil
}

// cleanTitle makes t one line of at most MaxTitle bytes of UTF-8.
func cleanTitle(t string) string {
	if len(t) <= MaxTitle && textOK(t, false) {
		return t
	}
	t = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == utf8.RuneError {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(t, " "))
	if len(t) > MaxTitle {
		cut := MaxTitle
		for cut > 0 && !utf8.RuneStart(t[cut]) {
			cut--
		}
		t = t[:cut]
	}
	return strings.TrimSpace(t)
}

// validSpaceID reports whether id may be a space id: 1..64 ASCII letters
// and digits. Any other id is simply not found.
func validSpaceID(id string) bool {
	if id == "" || len(id) > maxSpaceID {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// validMessageID reports whether id may be a message id (message's rule:
// 1..64 of [0-9A-Za-z._:-]).
func validMessageID(id string) bool {
	if id == "" || len(id) > message.MaxIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

// checkEmoji checks a reaction: 1..MaxEmoji bytes of UTF-8, no spaces, no
// control characters.
func checkEmoji(op, e string) error {
	if e == "" || len(e) > MaxEmoji || !utf8.ValidString(e) {
		return invalid(op, "emoji", "must be 1 to %d bytes of UTF-8", MaxEmoji)
	}
	for _, r := range e {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return invalid(op, "emoji", "must not contain spaces or control characters")
		}
	}
	return nil
}

// checkSend validates a message to send (the task assignee's membership
// and the thread's existence are checked in Redis).
func checkSend(op string, m protocol.Send) error {
	switch m.Kind {
	case protocol.KindChat:
		if err := checkBody(op, m.Body, true); err != nil {
			return err
		}
	case protocol.KindPost:
		if err := checkLine(op, "title", m.Title, MaxTitle, true); err != nil {
			return err
		}
		if err := checkBody(op, m.Body, true); err != nil {
			return err
		}
	case protocol.KindTask:
		if err := checkLine(op, "title", m.Title, MaxTitle, true); err != nil {
			return err
		}
		if err := checkBody(op, m.Body, false); err != nil {
			return err
		}
		if m.Task == nil {
			return invalid(op, "task", "is required for kind task")
		}
	default:
		return invalid(op, "kind", "must be chat, post or task")
	}
	if err := checkLine(op, "title", m.Title, MaxTitle, false); err != nil {
		return err
	}
	if m.Thread != "" && !validMessageID(m.Thread) {
		return invalid(op, "thread", "is not a message id")
	}
	if m.Task != nil {
		if m.Kind != protocol.KindTask {
			return invalid(op, "task", "is only for kind task")
		}
		if err := checkTask(op, *m.Task); err != nil {
			return err
		}
	}
	if len(m.Attachments) > MaxAttachments {
		return invalid(op, "attachments", "has more than %d entries", MaxAttachments)
	}
	for i, a := range m.Attachments {
		if err := checkAttachment(op, "attachments["+strconv.Itoa(i)+"]", a); err != nil {
			return err
		}
	}
	return nil
}

func checkTask(op string, t protocol.Task) error {
	if t.Status != protocol.TaskOpen && t.Status != protocol.TaskDone {
		return invalid(op, "task.status", "must be open or done")
	}
	if t.Due != "" {
		if _, err := time.Parse(time.RFC3339, t.Due); err != nil || len(t.Due) > 64 {
			return invalid(op, "task.due", "must be an RFC 3339 time")
		}
	}
	if t.Assignee != "" {
		return checkPrincipal(op, "task.assignee", t.Assignee)
	}
	return nil
}

func checkAttachment(op, field string, a protocol.Attachment) error {
	if err := checkLine(op, field+".name", a.Name, MaxName, true); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{{".id", a.ID}, {".type", a.Type}, {".mime", a.MIME}} {
		if err := checkLine(op, field+f.name, f.v, maxAttrib, false); err != nil {
			return err
		}
	}
	if a.Size < 0 {
		return invalid(op, field+".size", "is negative")
	}
	if err := checkLink(op, field+".url", a.URL); err != nil {
		return err
	}
	if a.Thumbnail != "" {
		return checkLink(op, field+".thumbnail", a.Thumbnail)
	}
	return nil
}

// checkLink is message's rule for links a browser loads (message does not
// export it): an absolute http or https URL with a host, a valid port and
// no user information; no spaces, control characters or backslashes
// anywhere (browsers strip or rewrite them).
func checkLink(op, field, s string) error {
	if s == "" {
		return invalid(op, field, "is required")
	}
	if len(s) > maxURL {
		return invalid(op, field, "is longer than %d bytes", maxURL)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f || c == '\\' {
			return invalid(op, field, "must not contain spaces, control characters or backslashes")
		}
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return invalid(op, field, "must be a valid URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return invalid(op, field, "must be an absolute http or https URL")
	case u.Host == "" || u.Opaque != "":
		return invalid(op, field, "must name a host")
	case u.User != nil:
		return invalid(op, field, "must not contain user information")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 || p[0] == '0' {
			return invalid(op, field, "has an invalid port: want 1-65535")
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return invalid(op, field, "has an empty port")
	}
	return nil
}
