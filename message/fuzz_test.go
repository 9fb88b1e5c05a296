package message

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

func FuzzDecode(f *testing.F) {
	seeds := []string{
		pyamsLogin,
		`{"host": "http://example.com", "channel": "chat:main", "action": "notify", "category": "content.review", ` +
			`"status": "success", "title": "Review", "message": "Line 1\nLine 2", "image": "http://example.com/i.png", ` +
			`"source": {"id": "users:jdoe", "title": "John"}, "target": {"principals": []}, "url": "http://example.com/x", ` +
			`"modal": true, "timestamp": "2025-01-18T17:20:54+00:00", "comments": "please \"check\"", "extra": [1, 2.5e3, null]}`,
		string(validMessage().AppendJSON(nil, true)),
		string(validMessage().PushJSON()),
		`{}`, `[]`, `null`, `{"a": {"b": [{"c": "\u2028"}]}}`, `{"title": "\ud800"}`,
		`{"source": {"id": null, "title": null, "avatar": null}}`, `{"target": {"principals": [null]}}`,
		`{"target": {"principals": ["role:r"], "keys": ["recipient"]}, "recipient": ["users:bob"], "note": 1}`,
		`{"target": {"keys": ["recipient", "host"]}, "recipient": "users:bob"}`, `{"target": {"keys": {}}}`,
		"{\"h\xffst\": 1}", `{"modal": 1}`, `{"host": "x", "host": 2}`, ` {"id":"01JHWX2X3B0000000000000000"} `,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data, 0)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error %v matches no sentinel", err)
			}
			if m != nil {
				t.Fatal("message returned with an error")
			}
			return
		}
		_ = m.Validate() // must not panic
		stored := m.AppendJSON(nil, true)
		if !json.Valid(stored) {
			t.Fatalf("invalid stored JSON %q from %q", stored, data)
		}
		again, err := Decode(stored, -1)
		if err != nil {
			t.Fatalf("re-decode of %q: %v", stored, err)
		}
		assertEqualMessages(t, again, m)
		if restored := again.AppendJSON(nil, true); !bytes.Equal(restored, stored) {
			t.Fatalf("encoding not stable:\n%s\n%s", stored, restored)
		}
		push := m.PushJSON()
		if !json.Valid(push) {
			t.Fatalf("invalid push JSON %q", push)
		}
		pushKeys := topKeys(t, push)
		if slices.Contains(pushKeys, "target") {
			t.Fatalf("push form has a target: %s", push)
		}
		if m.Target != nil {
			for _, k := range m.Target.Keys {
				if _, extra := m.Extra[k]; extra && slices.Contains(pushKeys, k) {
					t.Fatalf("push form has target key %q: %s", k, push)
				}
			}
		}
		// No key is written twice, and encoding/json reads the same strings we
		// decoded. (A map of raw values, not a struct, which encoding/json would
		// match case-insensitively against extras such as "Title"; not
		// map[string]any, whose float64 overflows on valid numbers like 1e700.)
		keys := topKeys(t, stored)
		var std map[string]json.RawMessage
		if err := json.Unmarshal(stored, &std); err != nil {
			t.Fatalf("encoding/json rejects %q: %v", stored, err)
		}
		if len(std) != len(keys) {
			t.Fatalf("duplicate keys in %q", stored)
		}
		for key, want := range map[string]string{"host": m.Host, "title": m.Title, "message": m.Body, "timestamp": m.Timestamp} {
			var got string
			if err := json.Unmarshal(std[key], &got); err != nil || got != want {
				t.Fatalf("encoding/json reads %s = %q (%v), we decoded %q", key, got, err, want)
			}
		}
	})
}
