package client

import (
	"encoding/json"

	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/protocol"
)

// frameKind classifies an inbound text frame.
type frameKind int

const (
	frameInvalid  frameKind = iota // not a message: counted and skipped
	framePong                      // "PONG", the answer to our "PING"
	frameLogout                    // {"action":"logout","status":"FORBIDDEN"}
	frameGap                       // {"action":"gap","since":...}
	frameMessage                   // a notification: anything else that decodes
	frameAnswer                    // {"action":"ok"|"error","rid":...}: a command's answer
	frameInbox                     // {"action":"inbox","unread","unseen"}
	frameUpdate                    // {"action":"update", ...a notification's new push form}
	frameRetract                   // {"action":"retract","id"[,"space"]}
	frameChat                      // a space message event: action message, or update with a space
	frameTyping                    // protocol.Typing
	frameReaction                  // protocol.Reaction
	frameActivity                  // protocol.Activity
	frameMember                    // protocol.Member
)

// frame is one parsed inbound frame; the fields of its kind are set.
type frame struct {
	kind     frameKind
	msg      *message.Message // frameMessage, frameUpdate
	since    string           // frameGap
	rid      string           // frameAnswer
	answer   reply            // frameAnswer
	counts   Counts           // frameInbox
	space    string           // frameRetract ("" for a notification), and the space events
	id       string           // frameRetract
	chat     protocol.SpaceMessage
	typing   protocol.Typing
	reaction protocol.Reaction
	activity protocol.Activity
	member   protocol.Member
}

// reply is a command's answer: ok, or the error's code and message.
type reply struct {
	ok      protocol.OK
	code    string // "" for ok
	message string
}

// probe is what parseFrame reads first: the keys that say what a frame is.
// Space is raw because a space event holds the space's id (a string) while
// a notification of a space message holds the space field (an object).
type probe struct {
	Action string          `json:"action"`
	Status string          `json:"status"`
	RID    string          `json:"rid"`
	Space  json.RawMessage `json:"space"`
}

// parseFrame classifies data. The read limit bounds its size, so Decode
// applies none of its own.
func parseFrame(data []byte) frame {
	if string(data) == protocol.Pong {
		return frame{kind: framePong}
	}
	var p probe
	if err := json.Unmarshal(data, &p); err != nil {
		return frame{kind: frameInvalid}
	}
	var space string
	spaceEvent := len(p.Space) > 0 && p.Space[0] == '"' && json.Unmarshal(p.Space, &space) == nil
	switch {
	case p.Action == protocol.ActionLogout && p.Status == protocol.StatusForbidden:
		return frame{kind: frameLogout}
	case p.Action == protocol.ActionGap:
		var g struct {
			Since any `json:"since"`
		}
		_ = json.Unmarshal(data, &g)
		since, _ := g.Since.(string) // not a string: since stays empty
		return frame{kind: frameGap, since: since}
	case (p.Action == protocol.ActionOK || p.Action == protocol.ActionError) && p.RID != "":
		return parseAnswer(p, data)
	case p.Action == protocol.ActionInbox:
		f := frame{kind: frameInbox}
		return checked(f, json.Unmarshal(data, &f.counts))
	case p.Action == protocol.ActionRetract:
		var r struct {
			ID string `json:"id"`
		}
		err := json.Unmarshal(data, &r)
		return checked(frame{kind: frameRetract, id: r.ID, space: space}, err)
	case p.Action == protocol.ActionMessage || (p.Action == protocol.ActionUpdate && spaceEvent):
		f := frame{kind: frameChat, space: space}
		return checked(f, json.Unmarshal(data, &f.chat))
	case p.Action == protocol.ActionTyping && spaceEvent:
		f := frame{kind: frameTyping, space: space}
		return checked(f, json.Unmarshal(data, &f.typing))
	case p.Action == protocol.ActionReaction:
		f := frame{kind: frameReaction, space: space}
		return checked(f, json.Unmarshal(data, &f.reaction))
	case p.Action == protocol.ActionActivity:
		f := frame{kind: frameActivity, space: space}
		return checked(f, json.Unmarshal(data, &f.activity))
	case p.Action == protocol.ActionMember:
		f := frame{kind: frameMember, space: space}
		return checked(f, json.Unmarshal(data, &f.member))
	}
	m, err := message.Decode(data, -1)
	if err != nil {
		return frame{kind: frameInvalid}
	}
	if p.Action == protocol.ActionUpdate {
		return frame{kind: frameUpdate, msg: m}
	}
	return frame{kind: frameMessage, msg: m}
}

func parseAnswer(p probe, data []byte) frame {
	f := frame{kind: frameAnswer, rid: p.RID}
	if p.Action == protocol.ActionOK {
		return checked(f, json.Unmarshal(data, &f.answer.ok))
	}
	var e protocol.Error
	err := json.Unmarshal(data, &e)
	f.answer.code, f.answer.message = e.Code, e.Message
	if f.answer.code == "" {
		f.answer.code = protocol.CodeInvalid // an error answer always fails its command
	}
	return checked(f, err)
}

// checked is f, or an invalid frame when err is set.
func checked(f frame, err error) frame {
	if err != nil {
		return frame{kind: frameInvalid}
	}
	return f
}
