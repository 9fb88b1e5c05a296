package message

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// pyamsLogin is what PyAMS's ChatMessageEncoder writes with json.dumps for a
// user.login message: ", " and ": " separators, ensure_ascii escapes, nulls.
const pyamsLogin = `{"host": "http://example.com", "channel": "chat:main", "action": "notify", ` +
	`"category": "user.login", "status": "info", "title": "Connexion", ` +
	`"message": "Administrateur s'est connect\u00e9... \ud83d\ude00", "image": null, ` +
	`"source": {"id": "system:admin", "title": "Administrateur", "avatar": "http://example.com/--static--/avatar.png"}, ` +
	`"target": {"principals": ["system:admin", "users:jdoe"]}, "url": null, "modal": false, ` +
	`"timestamp": "2025-01-18T17:20:54.123456+00:00"}`

// validMessage returns a message that passes Validate.
func validMessage() *Message {
	return &Message{
		Host:      "https://example.com",
		Channel:   "chat:main",
		Action:    "notify",
		Category:  "user.login",
		Status:    "info",
		Title:     "User login",
		Body:      "jdoe logged in...",
		Image:     "https://example.com/img.png",
		Source:    &Source{ID: "users:jdoe", Title: "John Doe", Avatar: "https://example.com/a.png"},
		Target:    &Target{Principals: []string{Admin}},
		URL:       "https://example.com/profile",
		Modal:     true,
		Timestamp: "2025-01-18T17:20:54.123456+00:00",
		ID:        "01JHWX2X3B0000000000000000",
	}
}

// normalized returns a copy of m whose Extra values are compact JSON, the form
// AppendJSON writes, so that a decoded and a re-decoded message compare equal.
func normalized(tb testing.TB, m *Message) *Message {
	tb.Helper()
	c := m.Clone()
	for k, v := range c.Extra {
		var buf bytes.Buffer
		if err := json.Compact(&buf, v); err != nil {
			tb.Fatalf("extra %q is not valid JSON: %v", k, err)
		}
		c.Extra[k] = buf.Bytes()
	}
	return c
}

func assertEqualMessages(tb testing.TB, got, want *Message) {
	tb.Helper()
	g, w := normalized(tb, got), normalized(tb, want)
	if !reflect.DeepEqual(g, w) {
		tb.Fatalf("messages differ:\n got %#v\nwant %#v", g, w)
	}
}

// topKeys returns the keys of the top-level JSON object in data, in order.
func topKeys(tb testing.TB, data []byte) []string {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		tb.Fatalf("not an object: %v %v in %s", tok, err, data)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			tb.Fatalf("token: %v in %s", err, data)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			tb.Fatalf("value of %q: %v", tok, err)
		}
	}
	return keys
}
