package handler

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/notifyd/notifyd/message"
)

func TestParseRulesExample(t *testing.T) {
	t.Parallel()
	rules, err := LoadRules(filepath.Join("testdata", "rules.example.json"))
	if err != nil {
		t.Fatalf("LoadRules: %v", err)
	}
	want := []Rule{
		{Category: "content.review", Principals: []string{"role:reviewer", "$recipient"}, ExcludeSender: true},
		{Category: "content.workflow", Principals: []string{"$notify", "$source.id"}},
		{Category: "site.announce", Principals: []string{message.Authenticated}},
	}
	if !reflect.DeepEqual(rules, want) {
		t.Fatalf("rules = %#v\nwant %#v", rules, want)
	}
	r := NewRegistry(Config{})
	if err := r.RegisterRules(rules); err != nil {
		t.Fatalf("RegisterRules: %v", err)
	}
	if got := r.Categories(); !slices.Equal(got, []string{"content.review", "content.workflow", "site.announce"}) {
		t.Errorf("Categories = %v", got)
	}
	m := newMessage("site.announce")
	if err := r.Resolve(context.Background(), m); err != nil || !slices.Equal(m.Principals(), []string{message.Authenticated}) {
		t.Errorf("site.announce resolved to %v, %v", m.Principals(), err)
	}
}

func TestParseRulesEmpty(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`{"rules": []}`, `{}`, ` {"rules": null} `} {
		rules, err := ParseRules([]byte(in))
		if err != nil || len(rules) != 0 {
			t.Errorf("ParseRules(%s) = %v, %v; want no rules", in, rules, err)
		}
	}
}

func TestParseRulesErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    string
		index int
		field string
		dup   bool
	}{
		{"empty input", ``, -1, "", false},
		{"not an object", `[]`, -1, "", false},
		{"null", `null`, -1, "", false},
		{"syntax", `{"rules": [`, -1, "", false},
		{"trailing data", `{"rules": []} {}`, -1, "", false},
		{"unknown top-level field", `{"rules": [], "version": 2}`, -1, "", false},
		{"rules not a list", `{"rules": {}}`, -1, "", false},
		{"rule not an object", `{"rules": ["content.review"]}`, 0, "", false},
		{"rule null", `{"rules": [null]}`, 0, "", false},
		{"unknown rule field", `{"rules": [{"category": "a", "principals": ["p"], "exclude": true}]}`, 0, "exclude", false},
		{"misspelt field", `{"rules": [{"category": "a", "principal": ["p"]}]}`, 0, "principal", false},
		{"category wrong type", `{"rules": [{"category": 1, "principals": ["p"]}]}`, 0, "category", false},
		{"principals wrong type", `{"rules": [{"category": "a", "principals": "p"}]}`, 0, "principals", false},
		{"principal wrong type", `{"rules": [{"category": "a", "principals": [1]}]}`, 0, "principals", false},
		{"exclude_sender wrong type", `{"rules": [{"category": "a", "principals": ["p"], "exclude_sender": "yes"}]}`, 0, "exclude_sender", false},
		{"missing category", `{"rules": [{"principals": ["p"]}]}`, 0, "category", false},
		{"empty category", `{"rules": [{"category": "", "principals": ["p"]}]}`, 0, "category", false},
		{"padded category", `{"rules": [{"category": " a", "principals": ["p"]}]}`, 0, "category", false},
		{"missing principals", `{"rules": [{"category": "a"}]}`, 0, "principals", false},
		{"empty principals", `{"rules": [{"category": "a", "principals": []}]}`, 0, "principals", false},
		{"empty principal", `{"rules": [{"category": "a", "principals": ["p", ""]}]}`, 0, "principals[1]", false},
		{"null principal", `{"rules": [{"category": "a", "principals": [null]}]}`, 0, "principals[0]", false},
		{"padded principal", `{"rules": [{"category": "a", "principals": ["p "]}]}`, 0, "principals[0]", false},
		{"bare dollar", `{"rules": [{"category": "a", "principals": ["$"]}]}`, 0, "principals[0]", false},
		{"reference to a message key", `{"rules": [{"category": "a", "principals": ["$title"]}]}`, 0, "principals[0]", false},
		{"reference to source title", `{"rules": [{"category": "a", "principals": ["$source.title"]}]}`, 0, "principals[0]", false},
		{"reference to target", `{"rules": [{"category": "a", "principals": ["$target.principals"]}]}`, 0, "principals[0]", false},
		{"error in a later rule", `{"rules": [{"category": "a", "principals": ["p"]}, {"category": "b", "principals": []}]}`, 1, "principals", false},
		{"duplicate category", `{"rules": [{"category": "a", "principals": ["p"]}, {"category": "b", "principals": ["p"]}, {"category": "a", "principals": ["q"]}]}`, 2, "category", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rules, err := ParseRules([]byte(tt.in))
			if rules != nil {
				t.Errorf("rules returned with an error: %v", rules)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseRules = %v, want ErrInvalid", err)
			}
			if errors.Is(err, ErrDuplicate) != tt.dup {
				t.Errorf("errors.Is(%v, ErrDuplicate) = %v, want %v", err, !tt.dup, tt.dup)
			}
			var re *RuleError
			if !errors.As(err, &re) {
				t.Fatalf("error %T is not a *RuleError", err)
			}
			if re.Index != tt.index || re.Field != tt.field || re.Reason == "" {
				t.Errorf("RuleError = %+v, want index %d field %q", re, tt.index, tt.field)
			}
		})
	}
}

func TestLoadRulesErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := LoadRules(filepath.Join(dir, "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want os.ErrNotExist", err)
	}
	path := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(path, []byte(`{"rules": [{"category": "a"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadRules(path)
	var re *RuleError
	if !errors.As(err, &re) || re.Path != path || re.Field != "principals" {
		t.Errorf("LoadRules = %#v, want a RuleError naming the file and the field", err)
	}
}

func TestRuleTarget(t *testing.T) {
	t.Parallel()
	extra := func(kv ...string) map[string]json.RawMessage {
		m := map[string]json.RawMessage{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = json.RawMessage(kv[i+1])
		}
		return m
	}
	tests := []struct {
		name    string
		rule    Rule
		extra   map[string]json.RawMessage
		noSrc   bool
		want    []string
		wantErr string // the FieldError's field
	}{
		{"literals", Rule{Principals: []string{"role:a", "system.Authenticated", "role:a"}}, nil, false,
			[]string{"role:a", "system.Authenticated"}, ""},
		{"string reference", Rule{Principals: []string{"role:a", "$recipient"}}, extra("recipient", `"users:jdoe"`), false,
			[]string{"role:a", "users:jdoe"}, ""},
		{"list reference", Rule{Principals: []string{"$to", "role:a"}}, extra("to", `["users:a", "", "users:b", "role:a"]`), false,
			[]string{"users:a", "users:b", "role:a"}, ""},
		{"empty list", Rule{Principals: []string{"$to"}}, extra("to", `[]`), false, []string{}, ""},
		{"missing reference", Rule{Principals: []string{"role:a", "$recipient"}}, nil, false, []string{"role:a"}, ""},
		{"null reference", Rule{Principals: []string{"role:a", "$recipient"}}, extra("recipient", ` null `), false, []string{"role:a"}, ""},
		{"dotted key", Rule{Principals: []string{"$meta.owner"}}, extra("meta.owner", `"users:o"`), false, []string{"users:o"}, ""},
		{"number", Rule{Principals: []string{"role:a", "$recipient"}}, extra("recipient", `42`), false, nil, "recipient"},
		{"object", Rule{Principals: []string{"$recipient"}}, extra("recipient", `{"id": "users:a"}`), false, nil, "recipient"},
		{"boolean", Rule{Principals: []string{"$recipient"}}, extra("recipient", `true`), false, nil, "recipient"},
		{"list with a number", Rule{Principals: []string{"$to"}}, extra("to", `["users:a", 1]`), false, nil, "to"},
		{"list with null", Rule{Principals: []string{"$to"}}, extra("to", `["users:a", null]`), false, nil, "to"},
		{"nested list", Rule{Principals: []string{"$to"}}, extra("to", `[["users:a"]]`), false, nil, "to"},
		{"source reference", Rule{Principals: []string{"role:a", "$source.id"}}, nil, false, []string{"role:a", "users:sender"}, ""},
		{"source reference without source", Rule{Principals: []string{"role:a", "$source.id"}}, nil, true, []string{"role:a"}, ""},
		{"exclude sender literal", Rule{Principals: []string{"users:sender", "role:a"}, ExcludeSender: true}, nil, false,
			[]string{"role:a"}, ""},
		{"exclude sender from reference", Rule{Principals: []string{"$to"}, ExcludeSender: true},
			extra("to", `["users:sender", "users:b", "users:sender"]`), false, []string{"users:b"}, ""},
		{"exclude sender source reference", Rule{Principals: []string{"$source.id"}, ExcludeSender: true}, nil, false, []string{}, ""},
		{"sender kept without exclude_sender", Rule{Principals: []string{"users:sender"}}, nil, false, []string{"users:sender"}, ""},
		{"exclude without source", Rule{Principals: []string{"users:sender", ""}, ExcludeSender: true}, nil, true,
			[]string{"users:sender"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newMessage("c")
			m.Extra = tt.extra
			if tt.noSrc {
				m.Source = nil
			}
			got, err := tt.rule.Target(context.Background(), m)
			if tt.wantErr != "" {
				var fe *message.FieldError
				if !errors.As(err, &fe) || fe.Field != tt.wantErr || !errors.Is(err, message.ErrInvalid) {
					t.Fatalf("Target = %v, %v; want a FieldError for %q", got, err, tt.wantErr)
				}
				if got != nil {
					t.Errorf("principals returned with an error: %v", got)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("Target = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestRegisterRules(t *testing.T) {
	t.Parallel()
	r := NewRegistry(Config{})
	if err := r.Register(LoginCategory, Login{}); err != nil {
		t.Fatal(err)
	}
	ok := Rule{Category: "a", Principals: []string{"p"}}
	tests := []struct {
		name  string
		rules []Rule
		want  error
	}{
		{"clashes with a registration", []Rule{ok, {Category: LoginCategory, Principals: []string{"p"}}}, ErrDuplicate},
		{"repeated category", []Rule{ok, ok}, ErrDuplicate},
		{"invalid rule", []Rule{ok, {Category: "b"}}, ErrInvalid},
		{"invalid reference", []Rule{{Category: "b", Principals: []string{"$host"}}}, ErrInvalid},
	}
	for _, tt := range tests {
		if err := r.RegisterRules(tt.rules); !errors.Is(err, tt.want) {
			t.Errorf("%s: RegisterRules = %v, want %v", tt.name, err, tt.want)
		}
		if got := r.Categories(); !slices.Equal(got, []string{LoginCategory}) {
			t.Fatalf("%s: a failed RegisterRules registered %v", tt.name, got)
		}
	}

	principals := []string{"role:a"}
	if err := r.RegisterRules([]Rule{{Category: "a", Principals: principals}}); err != nil {
		t.Fatal(err)
	}
	principals[0] = "changed" // the registry keeps its own copy
	m := newMessage("a")
	if err := r.Resolve(context.Background(), m); err != nil || !slices.Equal(m.Principals(), []string{"role:a"}) {
		t.Errorf("Resolve = %v, %v; want [role:a]", m.Principals(), err)
	}
	if err := r.RegisterRules([]Rule{ok}); !errors.Is(err, ErrDuplicate) {
		t.Errorf("second registration: %v, want ErrDuplicate", err)
	}
}
