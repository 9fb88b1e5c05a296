package client

import (
	"encoding/json"

	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/protocol"
)

// frameKind classifies an inbound text frame.
type frameKind int

const (
	frameInvalid frameKind = iota // not a message: counted and skipped
	framePong                     // "PONG", the answer to our "PING"
	frameLogout                   // {"action":"logout","status":"FORBIDDEN"}
	frameGap                      // {"action":"gap","since":...}
	frameMessage                  // anything else that decodes
)

// frame is one parsed inbound frame.
type frame struct {
	kind  frameKind
	msg   *message.Message // frameMessage
	since string           // frameGap
}

// parseFrame classifies data. The read limit bounds its size, so Decode
// applies none of its own.
func parseFrame(data []byte) frame {
	if string(data) == protocol.Pong {
		return frame{kind: framePong}
	}
	m, err := message.Decode(data, -1)
	if err != nil {
		return frame{kind: frameInvalid}
	}
	switch {
	case m.Action == protocol.ActionLogout && m.Status == protocol.StatusForbidden:
		return frame{kind: frameLogout}
	case m.Action == protocol.ActionGap:
		var since string
		if raw, ok := m.Extra["since"]; ok {
			_ = json.Unmarshal(raw, &since) // not a string: since stays empty
		}
		return frame{kind: frameGap, since: since}
	}
	return frame{kind: frameMessage, msg: m}
}
