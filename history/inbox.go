package history

// The inbox: every user's own history on a site, built from per-principal
// indexes that the append script fills (see inbox_design in
// ARCHITECTURE.md's Redis keys). This file is the read and state API that
// the REST API and the websocket gateway use; its contract is written here
// first and implemented in inbox_*.go.

import (
	"context"
	"errors"
	"time"

	"github.com/notifyd/notifyd/message"
)

// Inbox defaults (Config fields InboxLength, InboxTTL, CountCap,
// DeliveryChannel).
const (
	// DefaultInboxLength is how many entries each principal's index keeps on
	// a site (NOTIFYD_INBOX_LENGTH).
	DefaultInboxLength = 1000
	// DefaultInboxTTL is how long a stored message and its index entries are
	// kept (NOTIFYD_INBOX_TTL).
	DefaultInboxTTL = 30 * 24 * time.Hour
	// DefaultCountCap bounds the work of a count: unread and unseen are
	// counted among the newest DefaultCountCap visible entries.
	DefaultCountCap = 1000
	// DefaultDeliveryChannel is the internal channel on which the store that
	// wins a message publishes it for every gateway to deliver.
	DefaultDeliveryChannel = "notifyd:delivery"
)

// ErrNotFound: no message with that id is kept on that site (or the caller
// may not see it: the two are never told apart).
var ErrNotFound = errors.New("history: not found")

// Reader is who reads an inbox: the site, the user (the token's sub, the
// owner of read state and preferences) and every principal of the
// connection or token (sub, groups, roles, system.Authenticated...). A
// message is visible to a Reader when it is stored for Host, one of its
// target principals is among Principals, its sender is not User, and it
// has not been retracted: message.VisibleTo's rule.
type Reader struct {
	Host       string
	User       string
	Principals []string
}

// Counts are a user's badge figures on a site. Unread: visible entries, not
// muted, not read. Unseen: those of them stored after the seen cursor.
type Counts struct {
	Unread int `json:"unread"`
	Unseen int `json:"unseen"`
}

// PageOptions select a page of an inbox. Zero values: the newest Limit
// entries of every category, read or not.
type PageOptions struct {
	// Limit is the page size (1..MaxPage; zero: DefaultPage).
	Limit int
	// Before returns entries stored before this id (paging back).
	Before string
	// After returns entries stored after this id, oldest first (catching
	// up); Page.Gap is set when After is no longer kept. Exclusive with
	// Before.
	After string
	// UnreadOnly keeps unread entries only.
	UnreadOnly bool
	// Category keeps entries of that category only.
	Category string
	// Counts also counts the reader's unread and unseen entries
	// (Page.Counts; zero without it). A count scans up to the count cap per
	// principal: only a caller that shows them (GET /api/inbox) asks.
	Counts bool
}

// Page sizes.
const (
	DefaultPage = 50
	MaxPage     = 200
)

// Item is one inbox entry: the stored message (with its target: strip it
// with m.PushJSON before sending), its site sequence and its read state.
type Item struct {
	Seq     int64
	Message *message.Message
	Read    bool
	Muted   bool
}

// Page is one page of an inbox.
type Page struct {
	// Items are newest first, or oldest first with PageOptions.After.
	Items []Item
	// Next is the id to pass as Before (or After) for the next page; empty
	// when there is none.
	Next string
	// Gap: PageOptions.After is no longer kept (or not visible): entries may
	// have been missed; reload without After.
	Gap    bool
	Counts Counts
}

// Prefs are a user's preferences on a site. Muted categories (exact, or a
// prefix followed by ".*") are stored and listed, but never counted and
// never pushed live.
type Prefs struct {
	Muted []string `json:"muted"`
}

// Mutes reports whether category is muted by p.
func (p Prefs) Mutes(category string) bool {
	for _, m := range p.Muted {
		if m == category {
			return true
		}
		if n := len(m); n >= 2 && m[n-2:] == ".*" && len(category) > n-2 && category[:n-1] == m[:n-1] {
			return true
		}
	}
	return false
}

// DeliveryKind is the kind of a delivery on the delivery channel.
type DeliveryKind byte

// Delivery kinds.
const (
	DeliveryMessage DeliveryKind = 'm' // a new message
	DeliveryUpdate  DeliveryKind = 'u' // a message's new stored form
	DeliveryRetract DeliveryKind = 'x' // the stored form of a retracted message
)

// Delivery is one payload of the delivery channel: "<kind> <seq> <stored>".
type Delivery struct {
	Kind   DeliveryKind
	Seq    int64
	Stored []byte // the stored form (with target and target keys)
}

// Inbox is the read and state side of the per-user history. *Store
// implements it; consumers declare the subset they use.
type Inbox interface {
	Page(ctx context.Context, r Reader, o PageOptions) (Page, error)
	Count(ctx context.Context, r Reader) (Counts, error)
	MarkRead(ctx context.Context, r Reader, ids []string) (Counts, error)
	MarkAllRead(ctx context.Context, r Reader) (Counts, error)
	MarkUnread(ctx context.Context, r Reader, ids []string) (Counts, error)
	MarkSeen(ctx context.Context, r Reader, until string) (Counts, error)
	Prefs(ctx context.Context, host, user string) (Prefs, error)
	SetPrefs(ctx context.Context, host, user string, p Prefs) error
	// Update applies patch to the stored message and publishes the new form
	// (DeliveryUpdate); Retract removes it from every inbox and publishes
	// DeliveryRetract. Both answer ErrNotFound for an unknown id.
	Update(ctx context.Context, host, id string, patch func(*message.Message) error) (*message.Message, error)
	Retract(ctx context.Context, host, id string) (*message.Message, error)
	// Ack records that the user's device received everything up to id;
	// DeviceCursor returns that id ("" when none).
	Ack(ctx context.Context, r Reader, device, id string) error
	DeviceCursor(ctx context.Context, r Reader, device string) (string, error)
}

// ChatCategory is the category of chat messages (package space: a
// message of a space, targeted at its space principal). The store keeps
// them in the site's order, bodies, indexes and log like any message, but
// not in PyAMS's list (PyAMS's view would show chat as notifications, and
// chat would push notifications out of its 50 entries) nor in the sender's
// own index (counts, which chat never enters).
const ChatCategory = "space"
