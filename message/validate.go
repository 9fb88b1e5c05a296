package message

import (
	"net/url"
	"slices"
	"strings"
)

// Limits on individual fields, applied by Validate.
const (
	// MaxPrincipals bounds the number of target principals.
	MaxPrincipals = 1024
	// MaxIDLength bounds the length of a message id.
	MaxIDLength = 64
	// MaxPrincipalLength bounds the length in bytes of a principal id
	// everywhere in notifyd: source.id and target principals (Validate), a
	// token's sub and principals (package auth), a principal an
	// administrator revokes (package api).
	MaxPrincipalLength = 256
)

// Validate checks what PyAMS's schema checks, and a little more: required
// fields, a one-line title, a host that is an origin (http or https
// scheme://host[:port], port 1-65535), links a browser can safely load or
// follow (image: an absolute http or https URL; url and source.avatar: the
// same or a relative reference, never "//host" nor another scheme such as
// javascript:, see validateLink), principal ids of at most
// MaxPrincipalLength bytes, a parsable timestamp, a well-formed id when
// present.
// It returns a *FieldError (matching ErrInvalid) for the first problem found.
func (m *Message) Validate() error {
	required := []struct{ key, val string }{
		{"host", m.Host}, {"channel", m.Channel}, {"action", m.Action},
		{"category", m.Category}, {"status", m.Status}, {"title", m.Title},
		{"message", m.Body}, {"timestamp", m.Timestamp},
	}
	for _, r := range required {
		if strings.TrimSpace(r.val) == "" {
			return fieldErr(r.key, "is required")
		}
	}
	if err := ValidateHost(m.Host); err != nil {
		return err
	}
	if strings.ContainsAny(m.Title, "\r\n") {
		return fieldErr("title", "must be a single line")
	}
	if m.Image != "" {
		if err := validateLink("image", m.Image, false); err != nil {
			return err
		}
	}
	if m.Source == nil || m.Source.ID == "" {
		return fieldErr("source.id", "is required")
	}
	if len(m.Source.ID) > MaxPrincipalLength {
		return fieldErr("source.id", "is longer than %d bytes", MaxPrincipalLength)
	}
	if m.Source.Avatar != "" {
		if err := validateLink("source.avatar", m.Source.Avatar, true); err != nil {
			return err
		}
	}
	if m.URL != "" {
		if err := validateLink("url", m.URL, true); err != nil {
			return err
		}
	}
	if _, err := ParseTimestamp(m.Timestamp); err != nil {
		return fieldErr("timestamp", "must be ISO-8601 with a UTC offset")
	}
	if m.ID != "" && !ValidID(m.ID) {
		return fieldErr("id", "must be 1-%d characters of [0-9A-Za-z._:-]", MaxIDLength)
	}
	if m.Target != nil {
		if len(m.Target.Principals) > MaxPrincipals {
			return fieldErr("target.principals", "has more than %d entries", MaxPrincipals)
		}
		for _, p := range m.Target.Principals {
			if p == "" {
				return fieldErr("target.principals", "must not contain empty strings")
			}
			if len(p) > MaxPrincipalLength {
				return fieldErr("target.principals", "has an entry longer than %d bytes", MaxPrincipalLength)
			}
		}
		if len(m.Target.Keys) > MaxPrincipals {
			return fieldErr("target.keys", "has more than %d entries", MaxPrincipals)
		}
		if slices.Contains(m.Target.Keys, "") {
			return fieldErr("target.keys", "must not contain empty strings")
		}
	}
	return nil
}

// ValidateHost checks that host is an origin: http or https, a host, an
// optional port (1-65535, no leading zero) and nothing else (no path, query,
// fragment or user info).
func ValidateHost(host string) error {
	u, err := url.Parse(host)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fieldErr("host", "must be an origin such as https://example.com")
	}
	if strings.HasSuffix(host, "/") {
		return fieldErr("host", "must not end with a slash")
	}
	return checkPort("host", u.Host)
}

// ValidID reports whether id is a well-formed message id: 1 to MaxIDLength
// characters of [0-9A-Za-z._:-], as Validate requires. Device ids
// (protocol.MaxDeviceLength) follow the same rule.
func ValidID(id string) bool {
	if len(id) == 0 || len(id) > MaxIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z',
			c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}
