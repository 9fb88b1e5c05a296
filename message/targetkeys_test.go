package message

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

// A rule's target keys (Target.Keys) stay in the stored form, inside
// target, and are stripped from the push form; the stored form read back
// keeps them, so replay and REST strip them too.
func TestTargetKeys(t *testing.T) {
	t.Parallel()
	m := validMessage()
	m.Extra = map[string]json.RawMessage{
		"recipient": json.RawMessage(`["users:bob","users:carol"]`),
		"comments":  json.RawMessage(`"please check"`),
	}
	m.Target = &Target{Principals: []string{"role:reviewer", "users:bob", "users:carol"}, Keys: []string{"recipient"}}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}

	stored := m.StoredJSON()
	var pyams struct { // what PyAMS's own view reads: target.principals
		Target struct {
			Principals []string `json:"principals"`
		} `json:"target"`
		Recipient []string `json:"recipient"`
	}
	if err := json.Unmarshal(stored, &pyams); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pyams.Target.Principals, m.Target.Principals) || len(pyams.Recipient) != 2 {
		t.Fatalf("stored form lost the target or its key: %s", stored)
	}
	if want := `"target":{"principals":["role:reviewer","users:bob","users:carol"],"keys":["recipient"]}`; !json.Valid(stored) ||
		!bytes.Contains(stored, []byte(want)) {
		t.Fatalf("stored form %s, want it to hold %s", stored, want)
	}

	back, err := Decode(stored, 0)
	if err != nil {
		t.Fatal(err)
	}
	assertEqualMessages(t, back, m)
	for name, push := range map[string][]byte{"live": m.PushJSON(), "read back": back.PushJSON(), "AppendJSON": back.AppendJSON(nil, false)} {
		keys := topKeys(t, push)
		if slices.Contains(keys, "recipient") || slices.Contains(keys, "target") {
			t.Errorf("%s push form leaks the target: %s", name, push)
		}
		if !slices.Contains(keys, "comments") {
			t.Errorf("%s push form lost an extra key that is not a target key: %s", name, push)
		}
	}
	c := m.Clone()
	c.Target.Keys[0] = "x"
	if m.Target.Keys[0] != "recipient" {
		t.Fatal("Clone shares Target.Keys")
	}
}

func TestTargetKeysDecodeErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		`{"target":{"principals":["a"],"keys":"recipient"}}`,
		`{"target":{"principals":["a"],"keys":[1]}}`,
		`{"target":{"principals":["a"],"keys":[null]}}`,
	} {
		var fe *FieldError
		if _, err := Decode([]byte(in), 0); !errors.As(err, &fe) || fe.Field != "target.keys" {
			t.Errorf("Decode(%s) = %v, want a FieldError on target.keys", in, err)
		}
	}
	m := validMessage()
	m.Target.Keys = []string{"recipient", ""}
	var fe *FieldError
	if err := m.Validate(); !errors.As(err, &fe) || fe.Field != "target.keys" {
		t.Errorf("Validate with an empty key = %v, want a FieldError on target.keys", err)
	}
	// Keys without principals survive a round trip.
	d, err := Decode([]byte(`{"target":{"keys":["recipient"]}}`), 0)
	if err != nil || d.Target == nil || !slices.Equal(d.Target.Keys, []string{"recipient"}) || d.HasTarget() {
		t.Fatalf("Decode keys only = %+v, %v", d, err)
	}
}
