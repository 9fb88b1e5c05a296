package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Spaces (issue 10): the chat commands a client sends and the events the
// gateway sends back. Every command is one JSON object in a text frame with
// a client-chosen "rid" (1 to MaxRIDLength bytes); the gateway answers each
// with OK or Error carrying the same rid. Events carry no rid.

// Client to server actions.
const (
	ActionSubscribe   = "subscribe"   // {"space"}: this connection gets the space's events
	ActionUnsubscribe = "unsubscribe" // {"space"}
	ActionSend        = "send"        // {"space"} + Send: a new message
	ActionTyping      = "typing"      // {"space"}: never stored; also the event
	ActionReact       = "react"       // {"message","emoji","remove"}
	ActionEdit        = "edit"        // {"message","body"}: own messages
	ActionDelete      = "delete"      // {"message"}: own messages; moderators any
	ActionRead        = "read"        // {"space","until"}: the space's read cursor
)

// Server to client actions.
const (
	ActionOK       = "ok"       // the answer to a command
	ActionError    = "error"    // the answer to a command that failed
	ActionMessage  = "message"  // a new space message (SpaceMessage)
	ActionReaction = "reaction" // a reaction added or removed (Reaction)
	ActionActivity = "activity" // a new message in a space the connection did not subscribe to
	ActionMember   = "member"   // a member joined or left a space (Member)
)

// Error codes of an Error answer.
const (
	CodeForbidden   = "forbidden"
	CodeNotFound    = "not_found"
	CodeInvalid     = "invalid"
	CodeRateLimited = "rate_limited"
	CodeUnavailable = "unavailable" // the server could not reach its storage: retry later
)

// Message kinds.
const (
	KindChat = "chat" // body
	KindPost = "post" // title and body
	KindTask = "task" // title, and Task
)

// Task statuses.
const (
	TaskOpen = "open"
	TaskDone = "done"
)

// SpaceCategory is the message.Message category of a space message. Its
// "space" extra key holds a SpaceField; its target principal is
// SpacePrincipal(id) (and ThreadPrincipal(id, thread) for a reply).
const SpaceCategory = "space"

// SpacePrincipalPrefix starts the principal every member connection of a
// space holds.
const SpacePrincipalPrefix = "space:"

// SpacePrincipal returns "space:<id>".
func SpacePrincipal(id string) string { return SpacePrincipalPrefix + id }

// ThreadPrincipal returns "space:<id>#<thread>": the index of a thread's
// replies. No connection holds it.
func ThreadPrincipal(id, thread string) string { return SpacePrincipalPrefix + id + "#" + thread }

// MaxRIDLength is the longest rid.
const MaxRIDLength = 64

// MaxCommandSize is the largest command frame the gateway parses; it is
// below the gateway's frame limit, which closes the connection.
const MaxCommandSize = 48 << 10

// Attachment is a reference to a file stored elsewhere: notifyd never
// uploads. URL and Thumbnail are absolute http(s) URLs.
type Attachment struct {
	ID        string `json:"id,omitempty"`
	Name      string `json:"name"`
	Size      int64  `json:"size,omitempty"`
	Type      string `json:"type,omitempty"` // free: "image", "file", ...
	MIME      string `json:"mime,omitempty"`
	URL       string `json:"url"`
	Thumbnail string `json:"thumbnail,omitempty"`
}

// Task is the task of a message of kind task.
type Task struct {
	Assignee string `json:"assignee,omitempty"` // a member principal
	Due      string `json:"due,omitempty"`      // RFC 3339
	Status   string `json:"status"`             // TaskOpen or TaskDone
}

// Send is what a client sends: the body of the send command and of
// POST /api/spaces/{id}/messages. Bodies and titles are plain text: clients
// must render them as text (never as HTML).
type Send struct {
	Kind        string       `json:"kind"`
	Body        string       `json:"body,omitempty"`
	Title       string       `json:"title,omitempty"`
	Thread      string       `json:"thread,omitempty"` // the id of the thread's first message
	Attachments []Attachment `json:"attachments,omitempty"`
	Task        *Task        `json:"task,omitempty"`
}

// Command is a client's command frame. Which fields matter depends on
// Action (see the Action constants).
type Command struct {
	Action  string `json:"action"`
	RID     string `json:"rid"`
	Space   string `json:"space,omitempty"`
	Message string `json:"message,omitempty"` // react, edit, delete: the message id
	Emoji   string `json:"emoji,omitempty"`
	Remove  bool   `json:"remove,omitempty"`
	Until   string `json:"until,omitempty"` // read: the last message read
	// Key makes a send idempotent: a send retried with the same key (and
	// the same message) within a day gets the first answer and is stored
	// and delivered once. Up to 255 printable ASCII characters.
	Key string `json:"key,omitempty"`
	Send
}

// ErrNotCommand: a text frame is not a command (not a JSON object with a
// known action and a rid).
var ErrNotCommand = errors.New("protocol: not a command")

// IsCommandAction reports whether a is a client-to-server space action.
func IsCommandAction(a string) bool {
	switch a {
	case ActionSubscribe, ActionUnsubscribe, ActionSend, ActionTyping, ActionReact,
		ActionEdit, ActionDelete, ActionRead:
		return true
	}
	return false
}

// ParseCommand decodes a command frame. It returns the rid it could read
// (so that the error answer carries it) and ErrNotCommand (wrapped with a
// reason) when data is not a well-formed command. Unknown keys are ignored.
func ParseCommand(data []byte) (Command, error) {
	var c Command
	if len(data) > MaxCommandSize {
		return c, notCommand("command larger than %d bytes", MaxCommandSize)
	}
	if err := json.Unmarshal(data, &c); err != nil {
		// Read the rid alone, so that the error answer can name it.
		var r struct {
			RID string `json:"rid"`
		}
		if json.Unmarshal(data, &r) == nil && validRID(r.RID) {
			c = Command{RID: r.RID}
		} else {
			c = Command{}
		}
		return c, notCommand("malformed JSON")
	}
	if !validRID(c.RID) {
		rid := c.RID
		c = Command{Action: c.Action}
		if rid == "" {
			return c, notCommand("rid missing")
		}
		return c, notCommand("rid longer than %d bytes or not text", MaxRIDLength)
	}
	if !IsCommandAction(c.Action) {
		return c, notCommand("unknown action")
	}
	return c, nil
}

func validRID(rid string) bool {
	if rid == "" || len(rid) > MaxRIDLength {
		return false
	}
	for i := 0; i < len(rid); i++ {
		if rid[i] < 0x20 || rid[i] == 0x7f {
			return false
		}
	}
	return true
}

type commandError struct{ msg string }

func (e *commandError) Error() string { return "protocol: " + e.msg }
func (e *commandError) Unwrap() error { return ErrNotCommand }

func notCommand(format string, args ...any) error {
	return &commandError{msg: fmt.Sprintf(format, args...)}
}

// OK is the answer to a successful command. ID and Timestamp are set for
// send (the new message), Count for react (the emoji's new count).
type OK struct {
	Action    string `json:"action"` // ActionOK
	RID       string `json:"rid"`
	ID        string `json:"id,omitempty"`
	Timestamp string `json:"timestamp,omitempty"`
	Count     *int   `json:"count,omitempty"`
}

// Error is the answer to a failed command; the connection stays open.
type Error struct {
	Action  string `json:"action"` // ActionError
	RID     string `json:"rid,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// OKFrame encodes an OK answer with its action set.
func OKFrame(ok OK) []byte {
	ok.Action = ActionOK
	return mustJSON(ok)
}

// ErrorFrame encodes an Error answer with its action set.
func ErrorFrame(rid, code, msg string) []byte {
	return mustJSON(Error{Action: ActionError, RID: rid, Code: code, Message: msg})
}

// Sender is who sent a space message: always the server's view (the token),
// never the client's.
type Sender struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// SpaceField is the "space" extra key of a stored space message.
type SpaceField struct {
	ID     string `json:"id"`               // the space id
	Direct bool   `json:"direct,omitempty"` // a direct space: non-subscribed members get it as a notification
	Send
}

// ParseSpaceField decodes a space message's "space" extra key.
func ParseSpaceField(raw json.RawMessage) (SpaceField, error) {
	var f SpaceField
	if err := json.Unmarshal(raw, &f); err != nil {
		return f, err
	}
	if f.ID == "" {
		return f, errors.New("protocol: space field without id")
	}
	return f, nil
}

// ReactionCount is one emoji's reactions on a message (in history pages).
type ReactionCount struct {
	Emoji      string   `json:"emoji"`
	Count      int      `json:"count"`
	Principals []string `json:"principals,omitempty"` // the first reactors
}

// SpaceMessage is the message event, and a space message in history pages
// (where Reactions and Edited are set).
type SpaceMessage struct {
	Action      string          `json:"action,omitempty"` // ActionMessage, ActionUpdate; "" in history pages
	Space       string          `json:"space"`
	ID          string          `json:"id"`
	Kind        string          `json:"kind"`
	Body        string          `json:"body,omitempty"`
	Title       string          `json:"title,omitempty"`
	Thread      string          `json:"thread,omitempty"`
	Attachments []Attachment    `json:"attachments,omitempty"`
	Task        *Task           `json:"task,omitempty"`
	Sender      Sender          `json:"sender"`
	Timestamp   string          `json:"timestamp"`
	Reactions   []ReactionCount `json:"reactions,omitempty"`
}

// NewSpaceMessage returns the event of a stored space message: action,
// the space field's content, its id, sender and timestamp.
func NewSpaceMessage(action string, f SpaceField, id string, sender Sender, timestamp string) SpaceMessage {
	return SpaceMessage{
		Action: action, Space: f.ID, ID: id, Kind: f.Kind, Body: f.Body, Title: f.Title,
		Thread: f.Thread, Attachments: f.Attachments, Task: f.Task, Sender: sender, Timestamp: timestamp,
	}
}

// Frame encodes m.
func (m SpaceMessage) Frame() []byte { return mustJSON(m) }

// Typing is the typing event.
type Typing struct {
	Action    string `json:"action"` // ActionTyping
	Space     string `json:"space"`
	Principal string `json:"principal"`
}

// TypingFrame encodes {"action":"typing","space","principal"}.
func TypingFrame(space, principal string) []byte {
	return mustJSON(Typing{Action: ActionTyping, Space: space, Principal: principal})
}

// Reaction is the reaction event.
type Reaction struct {
	Action    string `json:"action"` // ActionReaction
	Space     string `json:"space"`
	Message   string `json:"message"`
	Emoji     string `json:"emoji"`
	Principal string `json:"principal"`
	Remove    bool   `json:"remove,omitempty"`
	Count     int    `json:"count"` // the emoji's count after the change
}

// Frame encodes r with its action set.
func (r Reaction) Frame() []byte {
	r.Action = ActionReaction
	return mustJSON(r)
}

// Activity is the event a member's connection gets for a new message of a
// space it did not subscribe to: enough to raise an unread mark.
type Activity struct {
	Action    string `json:"action"` // ActionActivity
	Space     string `json:"space"`
	ID        string `json:"id"`
	Sender    string `json:"sender"`
	Timestamp string `json:"timestamp"`
}

// ActivityFrame encodes an Activity.
func ActivityFrame(space, id, sender, timestamp string) []byte {
	return mustJSON(Activity{Action: ActionActivity, Space: space, ID: id, Sender: sender, Timestamp: timestamp})
}

// Member is the membership event: principal joined (Joined) or left
// (removed, left, or the space was deleted: Deleted).
type Member struct {
	Action    string `json:"action"` // ActionMember
	Space     string `json:"space"`
	Principal string `json:"principal"`
	Joined    bool   `json:"joined"`
	Deleted   bool   `json:"deleted,omitempty"`
}

// Frame encodes m with its action set.
func (m Member) Frame() []byte {
	m.Action = ActionMember
	return mustJSON(m)
}

// SpaceRetractFrame returns {"action":"retract","id","space"}.
func SpaceRetractFrame(space, id string) []byte {
	return mustJSON(struct {
		Action string `json:"action"`
		ID     string `json:"id"`
		Space  string `json:"space"`
	}{ActionRetract, id, space})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil { // only strings, numbers, bools and slices of them
		panic(err)
	}
	return b
}
