package protocol

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestInboxFrame(t *testing.T) {
	if got, want := string(InboxFrame(3, 1)), `{"action":"inbox","unread":3,"unseen":1}`; got != want {
		t.Errorf("InboxFrame = %s, want %s", got, want)
	}
}

func TestRetractAndAckFrames(t *testing.T) {
	for _, id := range []string{"01KAKF8G0V7P3HZ2W9QX4T1B6C", `a"b\c`} {
		var got struct{ Action, ID string }
		if err := json.Unmarshal(RetractFrame(id), &got); err != nil || got.Action != ActionRetract || got.ID != id {
			t.Errorf("RetractFrame(%q) = %s (%v)", id, RetractFrame(id), err)
		}
		back, ok := ParseAck(AckFrame(id))
		if !ok || back != id {
			t.Errorf("ParseAck(AckFrame(%q)) = %q, %v", id, back, ok)
		}
	}
}

func TestUpdateFrame(t *testing.T) {
	push := []byte(`{"action":"notify","title":"new","id":"x1","n":1.50,"extra":{"a":[1]}}`)
	b, ok := UpdateFrame(push)
	if !ok {
		t.Fatal("UpdateFrame refused an object")
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got["action"] != ActionUpdate || got["title"] != "new" || got["id"] != "x1" || !strings.Contains(string(b), `"n":1.50`) {
		t.Errorf("UpdateFrame = %s", b)
	}
	for _, bad := range []string{"", "null", "[]", `"x"`, "{"} {
		if _, ok := UpdateFrame([]byte(bad)); ok {
			t.Errorf("UpdateFrame(%q) accepted", bad)
		}
	}
}

func TestParseAck(t *testing.T) {
	for _, tc := range []struct {
		in     string
		id     string
		wantOK bool
	}{
		{`{"action":"ack","id":"01K"}`, "01K", true},
		{` {"id":"01K","action":"ack"}`, "", false}, // must start with {
		{`{"id":"01K","action":"ack"}`, "01K", true},
		{`{"action":"ack","id":""}`, "", true}, // the caller validates the id
		{`{"action":"ack"}`, "", false},
		{`{"action":"ack","id":"01K","x":1}`, "", false},
		{`{"action":"ack","id":"01K"}{}`, "", false},
		{`{"action":"ack","id":"01K"} x`, "", false},
		{`{"action":"ACK","id":"01K"}`, "", false},
		{`{"action":"ack","id":1}`, "", false},
		{`{"action":"ack","id":"` + strings.Repeat("a", MaxAckFrameSize) + `"}`, "", false},
		{`PING`, "", false},
		{`{"data":{}}`, "", false},
	} {
		id, ok := ParseAck([]byte(tc.in))
		if ok != tc.wantOK || id != tc.id {
			t.Errorf("ParseAck(%q) = %q, %v; want %q, %v", tc.in, id, ok, tc.id, tc.wantOK)
		}
	}
}

func FuzzParseAck(f *testing.F) {
	f.Add([]byte(`{"action":"ack","id":"01K"}`))
	f.Add([]byte(`{"action":"ack","id":"\u0000"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		id, ok := ParseAck(data)
		if !ok {
			return
		}
		if back, ok2 := ParseAck(AckFrame(id)); !ok2 || back != id {
			t.Fatalf("round trip of %q: %q, %v", id, back, ok2)
		}
	})
}
