package protocol

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// Actions of the inbox frames (issue 8). PyAMS's browser client ignores
// actions it does not know (a debug log), so a PyAMS client that never asked
// for them keeps working when they arrive.
const (
	// ActionInbox: the user's badge counts on the site changed (a new visible
	// message, read, unread, seen, retract). Server to client.
	ActionInbox = "inbox"
	// ActionUpdate: a message the client may see was changed; the frame is
	// its new push form with this action. Server to client.
	ActionUpdate = "update"
	// ActionRetract: a message the client may see was retracted; drop it.
	// Server to client.
	ActionRetract = "retract"
	// ActionAck: the client (connected with ?device=<id>) received every
	// message up to id; a reconnect of the same user and device without
	// since resumes after it. Client to server.
	ActionAck = "ack"
)

// MaxDeviceLength is the longest device id (?device=<id>): 1 to
// MaxDeviceLength characters of [0-9A-Za-z._:-] (message.ValidID).
const MaxDeviceLength = 64

// MaxAckFrameSize is the largest ack frame the gateway parses; a longer text
// frame is not an ack (it is ignored, as any unknown text is).
const MaxAckFrameSize = 256

// InboxFrame returns {"action":"inbox","unread":<unread>,"unseen":<unseen>}.
func InboxFrame(unread, unseen int) []byte {
	b := make([]byte, 0, 64)
	b = append(b, `{"action":"inbox","unread":`...)
	b = strconv.AppendInt(b, int64(unread), 10)
	b = append(b, `,"unseen":`...)
	b = strconv.AppendInt(b, int64(unseen), 10)
	return append(b, '}')
}

// RetractFrame returns {"action":"retract","id":"<id>"}, with id
// JSON-escaped.
func RetractFrame(id string) []byte {
	return actionID(`{"action":"retract","id":`, id)
}

// AckFrame returns {"action":"ack","id":"<id>"}, the frame a client sends to
// acknowledge everything up to id.
func AckFrame(id string) []byte {
	return actionID(`{"action":"ack","id":`, id)
}

func actionID(prefix, id string) []byte {
	q, _ := json.Marshal(id) // a string always marshals
	b := make([]byte, 0, len(prefix)+len(q)+1)
	b = append(b, prefix...)
	b = append(b, q...)
	return append(b, '}')
}

// UpdateFrame returns push, a message's push form (a JSON object), with its
// action replaced by "update": {"action":"update", ...the push form's other
// keys}. It reports false when push is not a JSON object. Build it once per
// update and share it between recipients.
func UpdateFrame(push []byte) ([]byte, bool) {
	var obj map[string]json.RawMessage
	d := json.NewDecoder(bytes.NewReader(push))
	d.UseNumber()
	if err := d.Decode(&obj); err != nil || obj == nil {
		return nil, false
	}
	obj["action"] = json.RawMessage(`"` + ActionUpdate + `"`)
	b, err := json.Marshal(obj) // keys sorted: the same bytes for equal inputs
	if err != nil {
		return nil, false
	}
	return b, true
}

// ParseAck parses a client's ack frame: exactly {"action":"ack","id":"<id>"}
// (keys in any order, no other key), at most MaxAckFrameSize bytes. It
// returns the id as sent, which the caller validates, and reports whether
// data is an ack frame.
func ParseAck(data []byte) (id string, ok bool) {
	if len(data) > MaxAckFrameSize || len(data) == 0 || data[0] != '{' {
		return "", false
	}
	var f struct {
		Action *string `json:"action"`
		ID     *string `json:"id"`
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&f); err != nil || d.More() {
		return "", false
	}
	if _, err := d.Token(); err == nil { // trailing data after the object
		return "", false
	}
	if f.Action == nil || *f.Action != ActionAck || f.ID == nil {
		return "", false
	}
	return *f.ID, true
}
