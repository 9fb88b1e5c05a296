package protocol

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseCommand(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		rid      string // the rid the error answer can carry
		ok       bool
	}{
		{"send", `{"action":"send","rid":"1","space":"s","kind":"chat","body":"hi"}`, "1", true},
		{"unknown keys ignored", `{"action":"typing","rid":"r","space":"s","sender":{"id":"x"}}`, "r", true},
		{"malformed keeps rid", `{"rid":"7","action":"send",`, "", false},
		{"wrong type keeps rid", `{"rid":"8","action":"send","remove":"yes"}`, "8", false},
		{"no rid", `{"action":"send"}`, "", false},
		{"long rid", `{"action":"send","rid":"` + strings.Repeat("r", MaxRIDLength+1) + `"}`, "", false},
		{"control in rid", `{"action":"send","rid":"a\u0001"}`, "", false},
		{"unknown action", `{"action":"fly","rid":"9"}`, "9", false},
		{"ack is not a command", `{"action":"ack","rid":"9","id":"x"}`, "9", false},
		{"not an object", `[1,2]`, "", false},
		{"too large", `{"action":"send","rid":"1","body":"` + strings.Repeat("x", MaxCommandSize) + `"}`, "", false},
	} {
		c, err := ParseCommand([]byte(tc.in))
		if tc.ok != (err == nil) {
			t.Errorf("%s: err %v, want ok %v", tc.name, err, tc.ok)
			continue
		}
		if err != nil && !errors.Is(err, ErrNotCommand) {
			t.Errorf("%s: %v does not match ErrNotCommand", tc.name, err)
		}
		if c.RID != tc.rid {
			t.Errorf("%s: rid %q, want %q", tc.name, c.RID, tc.rid)
		}
	}
}

// FuzzParseCommand: whatever the frame, ParseCommand does not panic, a
// command it accepts has a valid rid and a known action, and an error's
// rid is valid or empty (it is echoed to the client).
func FuzzParseCommand(f *testing.F) {
	f.Add([]byte(`{"action":"send","rid":"1","space":"s","kind":"chat","body":"hi"}`))
	f.Add([]byte(`{"rid":"7","action":"send",`))
	f.Add([]byte(`{"action":"react","rid":"x","message":"m","emoji":"👍","remove":true}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCommand(data)
		if c.RID != "" && !validRID(c.RID) {
			t.Fatalf("invalid rid %q returned", c.RID)
		}
		if err == nil && (!IsCommandAction(c.Action) || c.RID == "") {
			t.Fatalf("accepted %+v", c)
		}
	})
}

// TestSpaceFramesEscape: event frames are JSON whatever the text they
// carry.
func TestSpaceFramesEscape(t *testing.T) {
	body := "<script>alert(1)</script>\"\n\u2028"
	f := SpaceField{ID: "s", Send: Send{Kind: KindChat, Body: body}}
	for _, b := range [][]byte{
		NewSpaceMessage(ActionMessage, f, "id", Sender{ID: "u", Title: `"quoted"`}, "ts").Frame(),
		TypingFrame("s", `a"b`),
		ErrorFrame(`r"1`, CodeInvalid, body),
		OKFrame(OK{RID: "r"}),
		ActivityFrame("s", "id", "u", "ts"),
		Member{Space: "s", Principal: "p"}.Frame(),
		Reaction{Space: "s", Emoji: "👍"}.Frame(),
		SpaceRetractFrame("s", "id"),
	} {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil || m["action"] == "" {
			t.Fatalf("frame %s: %v", b, err)
		}
	}
	got := NewSpaceMessage(ActionMessage, f, "id", Sender{}, "ts").Frame()
	var m SpaceMessage
	if err := json.Unmarshal(got, &m); err != nil || m.Body != body {
		t.Fatalf("round trip %s: %v", got, err)
	}
}
