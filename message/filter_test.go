package message

import (
	"slices"
	"testing"
)

func TestVisibleTo(t *testing.T) {
	t.Parallel()
	const host = "https://example.com"
	msg := func(target ...string) *Message {
		m := &Message{Host: host, Source: &Source{ID: "users:sender"}}
		if target != nil {
			m.Target = &Target{Principals: target}
		}
		return m
	}
	reader := func(id string, principals ...string) Recipient {
		return Recipient{Host: host, Principal: id, Principals: append([]string{id}, principals...)}
	}
	tests := []struct {
		name string
		m    *Message
		r    Recipient
		want bool
	}{
		{"direct", msg("users:jdoe"), reader("users:jdoe"), true},
		{"through a group", msg("groups:staff"), reader("users:jdoe", "groups:staff"), true},
		{"one of many", msg("a", "b", "role:x"), reader("users:jdoe", "role:x"), true},
		{"no intersection", msg("users:other"), reader("users:jdoe", "groups:staff"), false},
		{"other site", msg("users:jdoe"), Recipient{Host: "https://other.example", Principal: "users:jdoe", Principals: []string{"users:jdoe"}}, false},
		{"scheme matters", msg("users:jdoe"), Recipient{Host: "http://example.com", Principal: "users:jdoe", Principals: []string{"users:jdoe"}}, false},
		{"sender skipped", msg("users:sender"), reader("users:sender"), false},
		{"sender skipped in broadcast", msg(Authenticated), reader("users:sender", Authenticated), false},
		{"authenticated broadcast", msg(Authenticated), reader("users:jdoe", Authenticated, Everyone), true},
		{"broadcast not to anonymous principals", msg(Authenticated), reader("users:jdoe", Everyone), false},
		{"no target", msg(), reader("users:jdoe", Authenticated), false},
		{"empty target", msg([]string{}...), reader("users:jdoe", Authenticated), false},
		{"no principal", msg("users:jdoe"), Recipient{Host: host, Principals: []string{"users:jdoe"}}, false},
		{"no source", &Message{Host: host, Target: &Target{Principals: []string{"users:jdoe"}}}, reader("users:jdoe"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.m.VisibleTo(tt.r); got != tt.want {
				t.Errorf("VisibleTo = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAfter(t *testing.T) {
	t.Parallel()
	list := []*Message{{ID: "c"}, {ID: "b"}, {ID: "a"}} // newest first
	ids := func(ms []*Message) []string {
		out := []string{}
		for _, m := range ms {
			out = append(out, m.ID)
		}
		return out
	}
	tests := []struct {
		name      string
		list      []*Message
		since     string
		want      []string
		wantFound bool
	}{
		{"empty since", list, "", []string{"c", "b", "a"}, true},
		{"oldest", list, "a", []string{"c", "b"}, true},
		{"middle", list, "b", []string{"c"}, true},
		{"newest", list, "c", []string{}, true},
		{"not found", list, "zz", []string{"c", "b", "a"}, false},
		{"empty list", nil, "a", []string{}, false},
		{"empty list empty since", nil, "", []string{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, found := After(tt.list, tt.since)
			if !slices.Equal(ids(got), tt.want) || found != tt.wantFound {
				t.Errorf("After(%q) = %v, %v; want %v, %v", tt.since, ids(got), found, tt.want, tt.wantFound)
			}
		})
	}
}
