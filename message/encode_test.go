package message

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

var pyamsKeys = []string{
	"host", "channel", "action", "category", "status", "title", "message",
	"image", "source", "target", "url", "modal", "timestamp",
}

func TestAppendJSONKeyOrder(t *testing.T) {
	t.Parallel()
	withExtra := validMessage()
	withExtra.Extra = map[string]json.RawMessage{"zz": []byte(`1`), "aa": []byte(`"x"`), "id2": []byte(`null`)}
	noID := validMessage()
	noID.ID = ""
	push := func(keys ...string) []string {
		return slices.DeleteFunc(keys, func(k string) bool { return k == "target" })
	}
	tests := []struct {
		name       string
		m          *Message
		withTarget bool
		want       []string
	}{
		{"stored", validMessage(), true, append(slices.Clone(pyamsKeys), "id")},
		{"push", validMessage(), false, push(append(slices.Clone(pyamsKeys), "id")...)},
		{"no id", noID, true, pyamsKeys},
		{"extras sorted after id", withExtra, true, append(slices.Clone(pyamsKeys), "id", "aa", "id2", "zz")},
		{"push with extras", withExtra, false, push(append(slices.Clone(pyamsKeys), "id", "aa", "id2", "zz")...)},
		{"zero message", &Message{}, true, pyamsKeys},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := tt.m.AppendJSON(nil, tt.withTarget)
			if !json.Valid(out) {
				t.Fatalf("invalid JSON: %s", out)
			}
			if got := topKeys(t, out); !slices.Equal(got, tt.want) {
				t.Errorf("keys = %v\nwant   %v", got, tt.want)
			}
		})
	}
}

func TestAppendJSONExactBytes(t *testing.T) {
	t.Parallel()
	m := validMessage()
	m.Image, m.URL, m.Modal = "", "", false
	m.Source.Avatar = ""
	want := `{"host":"https://example.com","channel":"chat:main","action":"notify",` +
		`"category":"user.login","status":"info","title":"User login","message":"jdoe logged in...",` +
		`"image":null,"source":{"id":"users:jdoe","title":"John Doe"},"target":{"principals":["system:admin"]},` +
		`"url":null,"modal":false,"timestamp":"2025-01-18T17:20:54.123456+00:00","id":"01JHWX2X3B0000000000000000"}`
	if got := string(m.AppendJSON(nil, true)); got != want {
		t.Errorf("AppendJSON =\n%s\nwant\n%s", got, want)
	}
	stored, err := m.MarshalJSON()
	if err != nil || string(stored) != want {
		t.Errorf("MarshalJSON = %s, %v; want the stored form", stored, err)
	}
	wantPush := strings.Replace(want, `"target":{"principals":["system:admin"]},`, "", 1)
	if got := string(m.PushJSON()); got != wantPush {
		t.Errorf("PushJSON =\n%s\nwant\n%s", got, wantPush)
	}
	prefix := []byte("prefix:")
	if got := string(m.AppendJSON(prefix, true)); got != "prefix:"+want {
		t.Errorf("AppendJSON does not append to dst: %s", got)
	}
}

func TestAppendJSONNilSourceAndTarget(t *testing.T) {
	t.Parallel()
	out := string((&Message{}).AppendJSON(nil, true))
	if !strings.Contains(out, `"source":null`) || !strings.Contains(out, `"target":{}`) {
		t.Errorf("nil source must be null and nil target {}: %s", out)
	}
	out = string((&Message{Target: &Target{}}).AppendJSON(nil, true))
	if !strings.Contains(out, `"target":{"principals":[]}`) {
		t.Errorf("empty target must encode an empty list: %s", out)
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	full := validMessage()
	full.Extra = map[string]json.RawMessage{"comments": []byte(`"ok"`), "list": []byte(`[1, "a b", {"k": null}]`)}
	fromPyAMS, err := Decode([]byte(pyamsLogin), 0)
	if err != nil {
		t.Fatal(err)
	}
	weird := validMessage()
	weird.Title = "quote \" backslash \\ tab \t nul \x00 sep \u2028\u2029 é 😀"
	weird.Body = "line1\nline2\r\n</script>"
	weird.Source = &Source{ID: "a\"b"}
	weird.Target = &Target{Principals: []string{"", "x\u2028y"}}
	tests := map[string]*Message{
		"full":      full,
		"pyams":     fromPyAMS,
		"weird":     weird,
		"no source": {Host: "h", Target: &Target{Principals: []string{"p"}}},
	}
	for name, m := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out := m.AppendJSON(nil, true)
			got, err := Decode(out, -1)
			if err != nil {
				t.Fatalf("Decode(AppendJSON) = %v for %s", err, out)
			}
			assertEqualMessages(t, got, m)
			push, err := Decode(m.PushJSON(), -1)
			if err != nil {
				t.Fatalf("Decode(PushJSON) = %v", err)
			}
			want := m.Clone()
			want.Target = nil
			assertEqualMessages(t, push, want)
		})
	}
}

func TestStringEscaping(t *testing.T) {
	t.Parallel()
	var ctl strings.Builder
	for c := 0; c < 0x20; c++ {
		ctl.WriteByte(byte(c))
	}
	tests := []struct {
		name, in, want string
	}{
		{"plain", "hello", "hello"},
		{"control characters", ctl.String(), ctl.String()},
		{"del", "\x7f", "\x7f"},
		{"quotes and backslashes", `"\"\\`, `"\"\\`},
		{"line separators", "a\u2028b\u2029c", "a\u2028b\u2029c"},
		{"html", "<script>&</script>", "<script>&</script>"},
		{"non-ascii", "é 😀 日本", "é 😀 日本"},
		{"invalid byte", "a\xffb", "a\ufffdb"},
		{"truncated rune", "a\xe2\x82", "a\ufffd\ufffd"},
		{"surrogate half", "\xed\xa0\x80", "\ufffd\ufffd\ufffd"},
		{"replacement char itself", "\ufffd", "\ufffd"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := appendString(nil, tt.in)
			// json.Valid accepts invalid UTF-8 inside strings: check it separately.
			if !json.Valid(out) || !utf8.Valid(out) {
				t.Fatalf("appendString(%q) = %q: invalid JSON or UTF-8", tt.in, out)
			}
			var got string
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("round trip of %q = %q, want %q", tt.in, got, tt.want)
			}
			// encoding/json agrees on what the text is.
			std, _ := json.Marshal(tt.in)
			var stdGot string
			if err := json.Unmarshal(std, &stdGot); err != nil || stdGot != got {
				t.Errorf("encoding/json reads %q, we wrote %q", stdGot, got)
			}
			for _, b := range out[1 : len(out)-1] {
				if b < 0x20 {
					t.Errorf("raw control byte %#x in %q", b, out)
				}
			}
			if strings.Contains(string(out), "\u2028") || strings.Contains(string(out), "\u2029") {
				t.Errorf("U+2028/U+2029 not escaped (breaks JavaScript): %q", out)
			}
		})
	}
	// Through a whole message too: every string field is escaped.
	m := &Message{Host: "\xff", Title: "\u2028", Source: &Source{ID: "\x01"}, Target: &Target{Principals: []string{"\""}},
		Timestamp: "\n", ID: "\\"}
	out := m.AppendJSON(nil, true)
	if !json.Valid(out) || !utf8.Valid(out) {
		t.Errorf("message with odd strings encodes to invalid JSON: %q", out)
	}
	if _, err := Decode(out, -1); err != nil {
		t.Errorf("Decode of a message with odd strings: %v", err)
	}
}
