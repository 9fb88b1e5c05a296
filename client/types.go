package client

import (
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/protocol"
)

// Counts are a user's badge counts on the site: the inbox frame
// {"action":"inbox","unread","unseen"} and the answer of the inbox calls.
type Counts struct {
	Unread int `json:"unread"`
	Unseen int `json:"unseen"`
}

// Space is a chat room as the REST API shows it to a member (see README,
// "Spaces").
type Space struct {
	ID           string                 `json:"id"`
	Title        string                 `json:"title"`
	Kind         string                 `json:"kind"` // "group" or "direct"
	Created      string                 `json:"created"`
	Members      []Member               `json:"members,omitempty"` // Space only, not Spaces
	MembersCount int                    `json:"members_count"`
	Unread       int                    `json:"unread"`
	LastMessage  *protocol.SpaceMessage `json:"last_message,omitempty"` // a preview
}

// Member is a member of a space.
type Member struct {
	Principal string `json:"principal"`
	Moderator bool   `json:"moderator"`
}

// Sent is the answer to Send: the new message's id and timestamp.
type Sent struct {
	ID        string
	Timestamp string
}

// MessagesOptions select a page of a space's history. Zero value: the
// newest page of top-level messages and replies, at the server's default
// size.
type MessagesOptions struct {
	Before string // the Next of the previous page
	Limit  int    // 1..200; zero: the server's default
	Thread string // a thread's first message: its replies only
}

// MessagesPage is a page of a space's history, newest first; Next is the
// Before of the next page, "" after the last.
type MessagesPage struct {
	Messages []protocol.SpaceMessage `json:"messages"`
	Next     string                  `json:"next"`
}

// InboxOptions select a page of the caller's inbox. Zero value: the newest
// page of every category, read or not.
type InboxOptions struct {
	Limit      int    // zero: the server's default
	Before     string // the Next of the previous page
	After      string // what is newer than this id, oldest first; exclusive with Before
	UnreadOnly bool
	Category   string
}

// InboxPage is a page of the caller's inbox and the current counts.
type InboxPage struct {
	Items []InboxItem
	Counts
	Next string // the Before of the next page; "" after the last
	Gap  bool   // After is no longer kept: reload without it
}

// InboxItem is a message of the inbox (its push form) and whether the
// caller read it.
type InboxItem struct {
	Message *message.Message
	Read    bool
}

// Prefs are the caller's inbox preferences: muted categories (exact, or a
// prefix followed by ".*") are listed but never counted nor pushed.
type Prefs struct {
	Muted []string `json:"muted"`
}
