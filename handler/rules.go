package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/notifyd/notifyd/message"
)

// Rule is a declarative handler, one entry of a rules file (see the package
// documentation for the format). A Rule is used by value; it must not be
// modified once registered.
type Rule struct {
	// Category is the category the rule handles.
	Category string `json:"category"`
	// Principals are literal principal ids and "$" references.
	Principals []string `json:"principals"`
	// ExcludeSender removes the message's source.id from the result.
	ExcludeSender bool `json:"exclude_sender,omitempty"`
}

var _ Handler = Rule{}

// SourceRef is the reference to the sender's principal id.
const SourceRef = "$source.id"

// Target resolves the rule's principals for m. A "$name" reference whose
// extra value is neither a string nor a list of strings makes it fail with a
// *message.FieldError naming the key.
func (r Rule) Target(_ context.Context, m *message.Message) ([]string, error) {
	out := make([]string, 0, len(r.Principals))
	for _, p := range r.Principals {
		name, isRef := strings.CutPrefix(p, "$")
		switch {
		case !isRef:
			out = append(out, p)
		case p == SourceRef:
			out = append(out, m.SourceID())
		default:
			var err error
			if out, err = appendExtra(out, m, name); err != nil {
				return nil, err
			}
		}
	}
	if sender := m.SourceID(); r.ExcludeSender && sender != "" {
		out = slices.DeleteFunc(out, func(p string) bool { return p == sender })
	}
	return dedupe(out), nil
}

// TargetKeys returns the extra keys the rule's "$name" references read
// ($source.id is not an extra key), each once, in the rule's order; nil
// when there are none. Registry.Resolve records those a message carries as
// part of its target (message.Target.Keys).
func (r Rule) TargetKeys() []string {
	var keys []string
	for _, p := range r.Principals {
		if name, isRef := strings.CutPrefix(p, "$"); isRef && p != SourceRef && !slices.Contains(keys, name) {
			keys = append(keys, name)
		}
	}
	return keys
}

var _ TargetKeyer = Rule{}

// appendExtra appends the principals held by m's extra key name: a string or
// a list of strings. A missing key or null adds nothing.
func appendExtra(dst []string, m *message.Message, name string) ([]string, error) {
	raw, ok := m.Extra[name]
	if !ok {
		return dst, nil
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return dst, nil
	}
	var one string
	if raw[0] == '"' && json.Unmarshal(raw, &one) == nil {
		return append(dst, one), nil
	}
	var list []*string // pointers, so that a null in the list is told apart from ""
	if raw[0] == '[' && json.Unmarshal(raw, &list) == nil && !slices.Contains(list, nil) {
		for _, s := range list {
			dst = append(dst, *s)
		}
		return dst, nil
	}
	return nil, &message.FieldError{Field: name, Reason: "must be a string or a list of strings (target reference)"}
}

// RuleError is a problem in a rules file or in a Rule. It matches ErrInvalid
// with errors.Is, and ErrDuplicate too when a category is repeated.
type RuleError struct {
	Path   string // the rules file, when read by LoadRules
	Index  int    // position in the "rules" list; -1 for the file as a whole
	Field  string // key in the rule, e.g. "category" or "principals[2]"; "" when not about one key
	Reason string // human-readable

	duplicate bool
}

// Error says where the problem is: "handler: [path: ]rules[i].field: reason".
func (e *RuleError) Error() string {
	prefix := "handler: "
	if e.Path != "" {
		prefix += e.Path + ": "
	}
	switch {
	case e.Index < 0:
		return prefix + "rules: " + e.Reason
	case e.Field == "":
		return fmt.Sprintf("%srules[%d]: %s", prefix, e.Index, e.Reason)
	default:
		return fmt.Sprintf("%srules[%d].%s: %s", prefix, e.Index, e.Field, e.Reason)
	}
}

// Is makes errors.Is(err, ErrInvalid) true for every RuleError, and
// errors.Is(err, ErrDuplicate) true for a repeated category.
func (e *RuleError) Is(target error) bool {
	return target == ErrInvalid || (e.duplicate && target == ErrDuplicate)
}

// LoadRules reads and parses a rules file.
func LoadRules(path string) ([]Rule, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("handler: load rules: %w", err)
	}
	rules, err := ParseRules(data)
	var re *RuleError
	if errors.As(err, &re) {
		re.Path = path
	}
	return rules, err
}

// ParseRules parses a rules file. Errors are *RuleError values naming the rule
// and the field.
func ParseRules(data []byte) ([]Rule, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, &RuleError{Index: -1, Reason: `must be a JSON object with a "rules" list`}
	}
	var file struct {
		Rules []json.RawMessage `json:"rules"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&file); err != nil {
		return nil, &RuleError{Index: -1, Reason: err.Error()}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &RuleError{Index: -1, Reason: "data after the JSON object"}
	}
	rules := make([]Rule, 0, len(file.Rules))
	for i, raw := range file.Rules {
		r, err := parseRule(i, raw)
		if err != nil {
			return nil, err
		}
		rules = append(rules, r)
	}
	if err := checkRules(rules); err != nil {
		return nil, err
	}
	return rules, nil
}

// parseRule decodes one rule key by key, so that an error names its key.
func parseRule(i int, raw json.RawMessage) (Rule, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return Rule{}, &RuleError{Index: i, Reason: "must be an object"}
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var r Rule
	for _, k := range keys {
		var dst any
		var want string
		switch k {
		case "category":
			dst, want = &r.Category, "a string"
		case "principals":
			dst, want = &r.Principals, "a list of strings"
		case "exclude_sender":
			dst, want = &r.ExcludeSender, "a boolean"
		default:
			return Rule{}, &RuleError{Index: i, Field: k, Reason: "unknown field"}
		}
		if err := json.Unmarshal(fields[k], dst); err != nil {
			return Rule{}, &RuleError{Index: i, Field: k, Reason: "must be " + want}
		}
	}
	return r, nil
}

// checkRules validates each rule and that no category repeats.
func checkRules(rules []Rule) error {
	first := make(map[string]int, len(rules))
	for i, r := range rules {
		if err := r.check(i); err != nil {
			return err
		}
		if j, dup := first[r.Category]; dup {
			return &RuleError{Index: i, Field: "category",
				Reason: fmt.Sprintf("%q is already handled by rules[%d]", r.Category, j), duplicate: true}
		}
		first[r.Category] = i
	}
	return nil
}

// messageKeys are the ChatMessage keys, which are never extra keys.
var messageKeys = []string{
	"host", "channel", "action", "category", "status", "title", "message",
	"image", "source", "target", "url", "modal", "timestamp", "id",
}

func (r Rule) check(i int) error {
	if r.Category == "" || strings.TrimSpace(r.Category) != r.Category {
		return &RuleError{Index: i, Field: "category", Reason: "must be non-empty, without surrounding spaces"}
	}
	if len(r.Principals) == 0 {
		return &RuleError{Index: i, Field: "principals", Reason: "must list at least one principal"}
	}
	for j, p := range r.Principals {
		field := fmt.Sprintf("principals[%d]", j)
		if p == "" || strings.TrimSpace(p) != p {
			return &RuleError{Index: i, Field: field, Reason: "must be non-empty, without surrounding spaces"}
		}
		name, isRef := strings.CutPrefix(p, "$")
		if !isRef || p == SourceRef {
			continue
		}
		root, _, _ := strings.Cut(name, ".")
		switch {
		case name == "":
			return &RuleError{Index: i, Field: field, Reason: `"$" must be followed by an extra key name`}
		case slices.Contains(messageKeys, name) || root == "source" || root == "target":
			return &RuleError{Index: i, Field: field,
				Reason: fmt.Sprintf("%q refers to a message field, not an extra key (only %s is supported)", p, SourceRef)}
		}
	}
	return nil
}

// RegisterRules registers each rule as the handler of its category. Either
// every rule is registered or, on error, none is: a rule that is invalid
// (*RuleError, ErrInvalid) or whose category is repeated or already has a
// handler (ErrDuplicate).
func (r *Registry) RegisterRules(rules []Rule) error {
	if err := checkRules(rules); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rule := range rules {
		if _, dup := r.handlers[rule.Category]; dup {
			return fmt.Errorf("handler: register rule %q: %w", rule.Category, ErrDuplicate)
		}
	}
	for _, rule := range rules {
		rule.Principals = slices.Clone(rule.Principals) // the caller keeps its slice
		r.handlers[rule.Category] = rule
	}
	return nil
}
