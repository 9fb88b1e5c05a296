package handler

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/message"
)

// The documented rule "principals": ["role:reviewer", "$recipient"] reads
// the producer's "recipient" key: that key is part of the target, so no
// recipient sees it, live, read back from history (replay, REST) or when
// the message was published with a target already.
func TestRuleKeysDoNotLeak(t *testing.T) {
	t.Parallel()
	rules, err := ParseRules([]byte(`{"rules": [
		{"category": "content.review", "principals": ["role:reviewer", "$recipient", "$cc", "$source.id"], "exclude_sender": true}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	r := NewRegistry(Config{})
	if err := r.RegisterRules(rules); err != nil {
		t.Fatal(err)
	}
	newReview := func(target ...string) *message.Message {
		m := newMessage("content.review", target...)
		m.Channel, m.Action, m.Status, m.Title, m.Body = "chat:main", "notify", "info", "Review", "Please review"
		m.Timestamp = "2025-01-18T17:20:54.123456+00:00"
		m.Extra = map[string]json.RawMessage{
			"recipient": json.RawMessage(`["users:bob","users:carol"]`),
			"comments":  json.RawMessage(`"page 12"`),
		}
		return m
	}
	tests := []struct {
		name           string
		m              *message.Message
		wantPrincipals []string
	}{
		{"target computed by the rule", newReview(), []string{"role:reviewer", "users:bob", "users:carol"}},
		{"target already present", newReview("users:dave"), []string{"users:dave"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := r.Resolve(context.Background(), tt.m); err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if err := tt.m.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if got := tt.m.Principals(); !slices.Equal(got, tt.wantPrincipals) {
				t.Errorf("principals %v, want %v", got, tt.wantPrincipals)
			}
			// "cc" is not in the message: only the keys it carries are recorded.
			if got := tt.m.TargetKeys(); !slices.Equal(got, []string{"recipient"}) {
				t.Errorf("target keys %v, want [recipient]", got)
			}
			stored := tt.m.StoredJSON()
			if !strings.Contains(string(stored), `"recipient":["users:bob","users:carol"]`) {
				t.Errorf("stored form lost the key: %s", stored)
			}
			back, err := message.Decode(stored, 0) // history, read for replay and REST
			if err != nil {
				t.Fatal(err)
			}
			for name, push := range map[string][]byte{"live": tt.m.PushJSON(), "history": back.PushJSON()} {
				if strings.Contains(string(push), "users:bob") || strings.Contains(string(push), `"recipient"`) {
					t.Errorf("%s push form leaks the recipient list: %s", name, push)
				}
				if !strings.Contains(string(push), `"comments":"page 12"`) {
					t.Errorf("%s push form lost a key that is not a target key: %s", name, push)
				}
			}
			// Resolving again (the subscriber does, after the publisher) changes nothing.
			again := back.Clone()
			if err := r.Resolve(context.Background(), again); err != nil {
				t.Fatal(err)
			}
			if s := again.StoredJSON(); string(s) != string(stored) {
				t.Errorf("second Resolve changed the message:\n%s\n%s", stored, s)
			}
		})
	}
}

func TestRuleTargetKeys(t *testing.T) {
	t.Parallel()
	r := Rule{Category: "c", Principals: []string{"role:x", "$a", SourceRef, "$b.c", "$a"}}
	if got := r.TargetKeys(); !slices.Equal(got, []string{"a", "b.c"}) {
		t.Errorf("TargetKeys = %v, want [a b.c]", got)
	}
	if got := (Rule{Category: "c", Principals: []string{"role:x", SourceRef}}).TargetKeys(); got != nil {
		t.Errorf("TargetKeys without references = %v, want nil", got)
	}
}
