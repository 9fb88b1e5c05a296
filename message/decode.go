package message

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"unicode/utf8"
)

// DefaultMaxSize is the size limit Decode applies when given a limit of 0.
const DefaultMaxSize = 64 << 10

// Decode parses one message as PyAMS producers write it. maxSize bounds the input
// in bytes (0 means DefaultMaxSize, negative means no limit). Decode checks types,
// not values: call Validate for that. Unknown keys are kept in Extra.
func Decode(data []byte, maxSize int) (*Message, error) {
	if maxSize == 0 {
		maxSize = DefaultMaxSize
	}
	if maxSize > 0 && len(data) > maxSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), maxSize)
	}
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%w: invalid UTF-8", ErrMalformed)
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	if m, ok := decodeFast(trimmed); ok {
		return m, nil
	}
	return decodeSlow(data)
}

// decodeSlow decodes data, valid UTF-8 starting with an object, with
// encoding/json: every shape, and the errors.
func decodeSlow(data []byte) (*Message, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	m := &Message{}
	if err := m.fill(raw); err != nil {
		return nil, err
	}
	return m, nil
}

// UnmarshalJSON implements json.Unmarshaler with Decode's rules and no size limit.
// JSON null leaves m unchanged, as encoding/json expects of an Unmarshaler.
func (m *Message) UnmarshalJSON(data []byte) error {
	if isNull(data) {
		return nil
	}
	d, err := Decode(data, -1)
	if err != nil {
		return err
	}
	*m = *d
	return nil
}

func (m *Message) fill(raw map[string]json.RawMessage) error {
	strs := []struct {
		key string
		dst *string
	}{
		{"host", &m.Host}, {"channel", &m.Channel}, {"action", &m.Action},
		{"category", &m.Category}, {"status", &m.Status}, {"title", &m.Title},
		{"message", &m.Body}, {"image", &m.Image}, {"url", &m.URL},
		{"timestamp", &m.Timestamp}, {"id", &m.ID},
	}
	for _, s := range strs {
		v, ok := raw[s.key]
		if !ok {
			continue
		}
		delete(raw, s.key)
		if err := decodeString(s.key, v, s.dst); err != nil {
			return err
		}
	}
	if v, ok := raw["modal"]; ok {
		delete(raw, "modal")
		if !isNull(v) {
			if err := json.Unmarshal(v, &m.Modal); err != nil {
				return fieldErr("modal", "must be a boolean")
			}
		}
	}
	if v, ok := raw["source"]; ok {
		delete(raw, "source")
		src, err := decodeSource(v)
		if err != nil {
			return err
		}
		m.Source = src
	}
	if v, ok := raw["target"]; ok {
		delete(raw, "target")
		t, err := decodeTarget(v)
		if err != nil {
			return err
		}
		m.Target = t
	}
	if len(raw) > 0 {
		m.Extra = raw
	}
	return nil
}

func isNull(v json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(v), []byte("null"))
}

func decodeString(key string, v json.RawMessage, dst *string) error {
	v = bytes.TrimSpace(v)
	if isNull(v) {
		*dst = ""
		return nil
	}
	// Fast path: v is a JSON value already validated by the enclosing
	// Unmarshal; a string without escapes is its bytes between the quotes.
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' && bytes.IndexByte(v[1:len(v)-1], '\\') < 0 &&
		bytes.IndexByte(v[1:len(v)-1], '"') < 0 {
		*dst = string(v[1 : len(v)-1])
		return nil
	}
	if err := json.Unmarshal(v, dst); err != nil {
		return fieldErr(key, "must be a string")
	}
	return nil
}

func decodeSource(v json.RawMessage) (*Source, error) {
	if isNull(v) {
		return nil, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(v, &raw); err != nil {
		return nil, fieldErr("source", "must be an object")
	}
	s := &Source{}
	// A slice, not a map, so that the first wrong field reported is always the same.
	fields := []struct {
		key string
		dst *string
	}{{"id", &s.ID}, {"title", &s.Title}, {"avatar", &s.Avatar}}
	for _, f := range fields {
		if v, ok := raw[f.key]; ok {
			if err := decodeString("source."+f.key, v, f.dst); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

func decodeTarget(v json.RawMessage) (*Target, error) {
	if isNull(v) {
		return nil, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(v, &raw); err != nil {
		return nil, fieldErr("target", "must be an object")
	}
	keys, err := decodeStrings("target.keys", raw["keys"])
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		keys = nil
	}
	p, ok := raw["principals"]
	if !ok || isNull(p) {
		if keys == nil {
			return nil, nil
		}
		// AppendJSON writes "principals":[] for this target; decode it as
		// that, so that the stored form round-trips.
		return &Target{Principals: []string{}, Keys: keys}, nil
	}
	var list []string
	if err := json.Unmarshal(p, &list); err != nil {
		return nil, fieldErr("target.principals", "must be a list of strings")
	}
	return &Target{Principals: list, Keys: keys}, nil
}

// decodeStrings decodes an optional list of strings: absent or null is nil;
// a null entry is an error.
func decodeStrings(key string, v json.RawMessage) ([]string, error) {
	if v == nil || isNull(v) {
		return nil, nil
	}
	var list []*string
	if err := json.Unmarshal(v, &list); err != nil || slices.Contains(list, nil) {
		return nil, fieldErr(key, "must be a list of strings")
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = *s
	}
	return out, nil
}
