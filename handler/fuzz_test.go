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
)

func FuzzParseRules(f *testing.F) {
	example, err := os.ReadFile(filepath.Join("testdata", "rules.example.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		string(example), `{}`, `{"rules": []}`, `{"rules": [null]}`, `[]`, ``,
		`{"rules": [{"category": "a", "principals": ["$"]}]}`,
		`{"rules": [{"category": "a", "principals": ["$source.id", "$x"], "exclude_sender": false}]}`,
		`{"rules": [{"category": "a", "principals": ["p"]}, {"category": "a", "principals": ["p"]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, err := ParseRules(data)
		if err != nil {
			var re *RuleError
			if !errors.As(err, &re) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not a RuleError matching ErrInvalid", err)
			}
			return
		}
		// What parses registers, and survives a round trip through the format.
		if err := NewRegistry(Config{}).RegisterRules(rules); err != nil {
			t.Fatalf("parsed rules do not register: %v", err)
		}
		out, err := json.Marshal(map[string][]Rule{"rules": rules})
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseRules(out)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		if !reflect.DeepEqual(again, rules) {
			t.Fatalf("round trip changed the rules:\n%#v\n%#v", rules, again)
		}
		m := newMessage("c")
		for _, r := range rules {
			if _, err := r.Target(context.Background(), m); err != nil {
				t.Fatalf("rule %v on a message without extras: %v", r, err)
			}
			for _, k := range r.TargetKeys() { // exactly the "$name" references
				if !slices.Contains(r.Principals, "$"+k) || "$"+k == SourceRef {
					t.Fatalf("rule %v: target key %q is not one of its references", r, k)
				}
			}
		}
	})
}
