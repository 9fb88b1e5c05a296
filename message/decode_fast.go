package message

import "encoding/json"

// decodeFast decodes the shape PyAMS producers and notifyd itself write: one
// object of the known keys, whose values are strings or null (modal a
// boolean or null, source and target objects of their known keys, lists of
// strings), with any whitespace and escapes. It scans the bytes once, with
// no map and no reflection. ok is false as soon as the input leaves that
// shape (an unknown key, a number, a null in a list, invalid JSON...):
// Decode then decodes it with encoding/json, which also reports the
// errors. When ok is true, the message is the one the encoding/json path
// returns for the same input (FuzzDecodeFast checks it), duplicate keys
// included (the last one wins). data is valid UTF-8 (Decode checked it).
func decodeFast(data []byte) (m *Message, ok bool) {
	s := scanner{b: data, s: string(data)}
	if !s.byte('{') {
		return nil, false
	}
	m = &Message{}
	if !s.byte('}') {
		for {
			key, ok := s.str()
			if !ok || !s.byte(':') {
				return nil, false
			}
			switch key {
			case "modal":
				// The last value wins, so null is false here: a fresh message.
				if m.Modal, ok = s.nullOrBool(); !ok {
					return nil, false
				}
			case "source":
				if m.Source, ok = s.source(); !ok {
					return nil, false
				}
			case "target":
				if m.Target, ok = s.target(); !ok {
					return nil, false
				}
			default:
				dst := m.stringField(key)
				if dst == nil {
					return nil, false // an unknown key: kept in Extra by the slow path
				}
				if *dst, ok = s.nullOrStr(); !ok {
					return nil, false
				}
			}
			if s.byte(',') {
				continue
			}
			if s.byte('}') {
				break
			}
			return nil, false
		}
	}
	s.ws()
	if s.i != len(data) {
		return nil, false
	}
	return m, true
}

// stringField returns the field of a string key, nil for other keys.
func (m *Message) stringField(key string) *string {
	switch key {
	case "host":
		return &m.Host
	case "channel":
		return &m.Channel
	case "action":
		return &m.Action
	case "category":
		return &m.Category
	case "status":
		return &m.Status
	case "title":
		return &m.Title
	case "message":
		return &m.Body
	case "image":
		return &m.Image
	case "url":
		return &m.URL
	case "timestamp":
		return &m.Timestamp
	case "id":
		return &m.ID
	}
	return nil
}

// scanner reads JSON tokens from b at i. s is b as one string, so that
// the strings decoded without escapes are slices of it: one allocation
// for all of them (they keep the whole input alive, about the size of the
// message anyway).
type scanner struct {
	b []byte
	s string
	i int
}

// ws skips whitespace.
func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// byte consumes c after whitespace, if it is next.
func (s *scanner) byte(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// literal consumes word after whitespace, if it is next.
func (s *scanner) literal(word string) bool {
	s.ws()
	if len(s.b)-s.i >= len(word) && string(s.b[s.i:s.i+len(word)]) == word {
		s.i += len(word)
		return true
	}
	return false
}

// str reads a string, unescaping it if it has escapes.
func (s *scanner) str() (string, bool) {
	if !s.byte('"') {
		return "", false
	}
	start, escaped := s.i, false
	for j := start; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			s.i = j + 1
			if !escaped {
				return s.s[start:j], true
			}
			return unescape(s.b[start-1 : j+1])
		case c == '\\':
			escaped = true
			j++ // the escaped byte cannot end the string
		case c < 0x20:
			return "", false // invalid JSON
		}
	}
	return "", false
}

// nullOrStr reads a string or null ("").
func (s *scanner) nullOrStr() (string, bool) {
	if s.literal("null") {
		return "", true
	}
	return s.str()
}

// nullOrBool reads a boolean or null (false).
func (s *scanner) nullOrBool() (bool, bool) {
	switch {
	case s.literal("true"):
		return true, true
	case s.literal("false"), s.literal("null"):
		return false, true
	}
	return false, false
}

// strs reads a list of strings (no null entry), or null (isNull).
func (s *scanner) strs() (list []string, isNull, ok bool) {
	if s.literal("null") {
		return nil, true, true
	}
	if !s.byte('[') {
		return nil, false, false
	}
	list = []string{}
	if s.byte(']') {
		return list, false, true
	}
	for {
		v, ok := s.str()
		if !ok {
			return nil, false, false
		}
		list = append(list, v)
		if s.byte(',') {
			continue
		}
		return list, false, s.byte(']')
	}
}

// object reads an object or null (isNull), calling field for each key
// with the scanner on its value.
func (s *scanner) object(field func(key string) bool) (isNull, ok bool) {
	if s.literal("null") {
		return true, true
	}
	if !s.byte('{') {
		return false, false
	}
	if s.byte('}') {
		return false, true
	}
	for {
		key, ok := s.str()
		if !ok || !s.byte(':') || !field(key) {
			return false, false
		}
		if s.byte(',') {
			continue
		}
		return false, s.byte('}')
	}
}

// source reads a source object of known keys, or null.
func (s *scanner) source() (*Source, bool) {
	src := &Source{}
	isNull, ok := s.object(func(key string) bool {
		var dst *string
		switch key {
		case "id":
			dst = &src.ID
		case "title":
			dst = &src.Title
		case "avatar":
			dst = &src.Avatar
		default:
			return false
		}
		var ok bool
		*dst, ok = s.nullOrStr()
		return ok
	})
	if !ok || isNull {
		return nil, ok
	}
	return src, true
}

// target reads a target object of known keys, or null, as decodeTarget
// makes it.
func (s *scanner) target() (*Target, bool) {
	var keys, principals []string
	var hasPrincipals bool
	isNull, ok := s.object(func(key string) bool {
		list, null, ok := s.strs()
		switch key {
		case "keys":
			keys = list
		case "principals":
			principals, hasPrincipals = list, !null
		default:
			return false
		}
		return ok
	})
	if !ok || isNull {
		return nil, ok
	}
	if len(keys) == 0 {
		keys = nil
	}
	if !hasPrincipals {
		if keys == nil {
			return nil, true
		}
		return &Target{Principals: []string{}, Keys: keys}, true
	}
	return &Target{Principals: principals, Keys: keys}, true
}

// unescape unquotes a string token with escapes: the one-letter escapes
// here, \u escapes by encoding/json (surrogates and all).
func unescape(tok []byte) (string, bool) {
	body := tok[1 : len(tok)-1]
	out := make([]byte, 0, len(body))
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++ // str made sure a byte follows
		switch body[i] {
		case '"', '\\', '/':
			out = append(out, body[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		default: // \u, or invalid
			var v string
			if json.Unmarshal(tok, &v) != nil {
				return "", false
			}
			return v, true
		}
	}
	return string(out), true
}
