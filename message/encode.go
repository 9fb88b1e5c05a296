package message

import (
	"slices"
	"strconv"
	"unicode/utf8"
)

// MarshalJSON encodes the stored form: every key, target included. It has a
// value receiver so that json.Marshal of a Message value uses it too.
func (m Message) MarshalJSON() ([]byte, error) {
	return m.StoredJSON(), nil
}

// StoredJSON encodes the stored form (target included), as history keeps
// it, in one allocation.
func (m *Message) StoredJSON() []byte {
	return m.AppendJSON(make([]byte, 0, m.sizeHint()), true)
}

// PushJSON encodes what recipients see: the message without its target nor
// the extra keys that are part of it (Target.Keys), so that principal ids are
// not leaked to the people a message is sent to.
func (m *Message) PushJSON() []byte {
	return m.AppendJSON(make([]byte, 0, m.sizeHint()), false)
}

// sizeHint estimates the encoded size, so that one allocation usually
// suffices: the fixed keys plus the variable fields, with a margin for
// escapes.
func (m *Message) sizeHint() int {
	n := 192 + len(m.Host) + len(m.Channel) + len(m.Action) + len(m.Category) + len(m.Status) +
		len(m.Title) + len(m.Body) + len(m.Image) + len(m.URL) + len(m.Timestamp) + len(m.ID)
	if m.Source != nil {
		n += len(m.Source.ID) + len(m.Source.Title) + len(m.Source.Avatar)
	}
	if m.Target != nil {
		for _, p := range m.Target.Principals {
			n += len(p) + 3
		}
		for _, k := range m.Target.Keys {
			n += len(k) + 3
		}
	}
	for k, v := range m.Extra {
		n += len(k) + len(v) + 4
	}
	return n + n/8
}

// AppendJSON appends the compact JSON form of m to dst: PyAMS's 13 keys in
// PyAMS's order, then "id" when set, then Extra keys in sorted order. With
// withTarget (the stored form) target is written with its keys; without (the
// push form) target and the Extra keys it names (Target.Keys) are left out.
func (m *Message) AppendJSON(dst []byte, withTarget bool) []byte {
	dst = append(dst, `{"host":`...)
	dst = appendString(dst, m.Host)
	dst = append(dst, `,"channel":`...)
	dst = appendString(dst, m.Channel)
	dst = append(dst, `,"action":`...)
	dst = appendString(dst, m.Action)
	dst = append(dst, `,"category":`...)
	dst = appendString(dst, m.Category)
	dst = append(dst, `,"status":`...)
	dst = appendString(dst, m.Status)
	dst = append(dst, `,"title":`...)
	dst = appendString(dst, m.Title)
	dst = append(dst, `,"message":`...)
	dst = appendString(dst, m.Body)
	dst = append(dst, `,"image":`...)
	dst = appendNullable(dst, m.Image)
	dst = append(dst, `,"source":`...)
	dst = appendSource(dst, m.Source)
	if withTarget {
		dst = append(dst, `,"target":`...)
		dst = appendTarget(dst, m.Target)
	}
	dst = append(dst, `,"url":`...)
	dst = appendNullable(dst, m.URL)
	dst = append(dst, `,"modal":`...)
	dst = strconv.AppendBool(dst, m.Modal)
	dst = append(dst, `,"timestamp":`...)
	dst = appendString(dst, m.Timestamp)
	if m.ID != "" {
		dst = append(dst, `,"id":`...)
		dst = appendString(dst, m.ID)
	}
	if len(m.Extra) > 0 {
		var hidden []string
		if !withTarget {
			hidden = m.TargetKeys()
		}
		keys := make([]string, 0, len(m.Extra))
		for k := range m.Extra {
			if !slices.Contains(hidden, k) {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			dst = append(dst, ',')
			dst = appendString(dst, k)
			dst = append(dst, ':')
			dst = appendCompact(dst, m.Extra[k])
		}
	}
	return append(dst, '}')
}

func appendNullable(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, "null"...)
	}
	return appendString(dst, s)
}

func appendSource(dst []byte, s *Source) []byte {
	if s == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, s.ID)
	dst = append(dst, `,"title":`...)
	dst = appendString(dst, s.Title)
	if s.Avatar != "" {
		dst = append(dst, `,"avatar":`...)
		dst = appendString(dst, s.Avatar)
	}
	return append(dst, '}')
}

func appendTarget(dst []byte, t *Target) []byte {
	if t == nil {
		return append(dst, "{}"...)
	}
	dst = append(dst, `{"principals":`...)
	dst = appendStrings(dst, t.Principals)
	if len(t.Keys) > 0 {
		dst = append(dst, `,"keys":`...)
		dst = appendStrings(dst, t.Keys)
	}
	return append(dst, '}')
}

// appendStrings appends a JSON list of strings.
func appendStrings(dst []byte, list []string) []byte {
	dst = append(dst, '[')
	for i, s := range list {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, s)
	}
	return append(dst, ']')
}

// appendCompact appends raw JSON without insignificant whitespace. raw came
// from a successful decode, so it is valid; strings are copied byte for byte.
func appendCompact(dst, raw []byte) []byte {
	inString, escaped := false, false
	for _, c := range raw {
		switch {
		case inString:
			dst = append(dst, c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		default:
			if c == '"' {
				inString = true
			}
			dst = append(dst, c)
		}
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaping as encoding/json does
// (minus HTML escaping): quotes, backslashes, control characters, U+2028,
// U+2029, and invalid UTF-8 as U+FFFD.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
