package space

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/notifyd/notifyd/message"
)

// Defaults of Config.
const (
	// DefaultChannel is the Redis channel of space events (membership,
	// typing, reactions) to every gateway.
	DefaultChannel = "notifyd:spaces"
	// DefaultMaxMembers bounds the members of a space.
	DefaultMaxMembers = 1000
	// DefaultMaxSpacesPerUser bounds the spaces a principal belongs to.
	DefaultMaxSpacesPerUser = 1000
	// DefaultSendRate and DefaultSendBurst: messages per second per user
	// (host and principal), and the bucket size.
	DefaultSendRate  = 5
	DefaultSendBurst = 20
	// DefaultManageRate and DefaultManageBurst: spaces created or members
	// added per second per user, and the burst.
	DefaultManageRate  = 1
	DefaultManageBurst = 30
	// DefaultTypingInterval: one typing event per user and space per
	// interval; more are dropped silently.
	DefaultTypingInterval = 2 * time.Second
	// DefaultMessageTTL is how long a message's space record (sx:<id>) and
	// its reactions are kept: history.DefaultInboxTTL, so that they live as
	// long as the message.
	DefaultMessageTTL = 30 * 24 * time.Hour
	// DefaultGuestTTL, also the maximum, is how long a guest token is valid.
	DefaultGuestTTL = 24 * time.Hour
	// DefaultMaxEmojis bounds the different emojis on one message.
	DefaultMaxEmojis = 50
)

// Config configures a Service. Each field's comment gives its zero-value
// default.
type Config struct {
	// Prefix returns the key prefix of a site: "{<notifications key>::<host>}:",
	// the same slot as the site's history (cmd/notifyd wires it from
	// history.Store.ListKey). It must contain a Cluster hash tag. Required.
	Prefix func(host string) string
	// Channel is the Redis channel of space events. Default DefaultChannel.
	Channel string
	// MaxMembers bounds the members of a space (Create's list included).
	// Default DefaultMaxMembers.
	MaxMembers int
	// MaxSpacesPerUser bounds the spaces a principal belongs to (what List
	// reads). Default DefaultMaxSpacesPerUser.
	MaxSpacesPerUser int
	// SendRate is the messages per second a user (host and principal) may
	// send; SendBurst the bucket size. Default DefaultSendRate and
	// DefaultSendBurst; a negative SendRate disables the limit.
	SendRate  float64
	SendBurst int
	// ManageRate is the spaces a user may create and the members it may
	// add (Create, Direct, AddMember, Guest calls) per second; ManageBurst
	// the bucket size. Default DefaultManageRate and DefaultManageBurst; a
	// negative ManageRate disables the limit.
	ManageRate  float64
	ManageBurst int
	// TypingInterval is the minimum interval between two typing events of
	// a user in a space; extra ones are dropped. Default
	// DefaultTypingInterval.
	TypingInterval time.Duration
	// MessageTTL is how long a message's space record and reactions are
	// kept; keep it at least the history's InboxTTL. Default
	// DefaultMessageTTL.
	MessageTTL time.Duration
	// MaxEmojis bounds the different emojis on a message. Default
	// DefaultMaxEmojis.
	MaxEmojis int
	// MaxMessageSize bounds a message's stored form, as the publisher does.
	// Default message.DefaultMaxSize.
	MaxMessageSize int
	// Mint signs a guest token for sub with the given principals, valid for
	// ttl on host (the token is bound to that site when tokens carry a site
	// claim). Default nil: Guest fails with ErrNotConfigured.
	Mint func(host, sub, name string, principals []string, ttl time.Duration) (token string, err error)
	// GuestTTL is how long a guest token is valid. Default and maximum
	// DefaultGuestTTL.
	GuestTTL time.Duration
	// OnMessage is called after each successful Send with the message
	// event's JSON (a protocol.SpaceMessage, action "message"), for
	// webhooks. It must not block for long. Default nil: none.
	OnMessage func(ctx context.Context, host, space, id string, event []byte)
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// IDGen makes message and group space ids. Default a *message.IDGen.
	IDGen IDGen
	// Logger receives Debug logs per operation and Warn logs of Listen's
	// reconnects. Default: discard.
	Logger *slog.Logger
}

// IDGen makes unique ids; *message.IDGen satisfies it.
type IDGen interface {
	New(now time.Time) string
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	c.Channel = cmp.Or(c.Channel, DefaultChannel)
	c.MaxMembers = cmp.Or(c.MaxMembers, DefaultMaxMembers)
	c.MaxSpacesPerUser = cmp.Or(c.MaxSpacesPerUser, DefaultMaxSpacesPerUser)
	c.SendRate = cmp.Or(c.SendRate, DefaultSendRate)
	c.SendBurst = cmp.Or(c.SendBurst, DefaultSendBurst)
	c.ManageRate = cmp.Or(c.ManageRate, DefaultManageRate)
	c.ManageBurst = cmp.Or(c.ManageBurst, DefaultManageBurst)
	c.TypingInterval = cmp.Or(c.TypingInterval, DefaultTypingInterval)
	c.MessageTTL = cmp.Or(c.MessageTTL, DefaultMessageTTL)
	c.MaxEmojis = cmp.Or(c.MaxEmojis, DefaultMaxEmojis)
	c.MaxMessageSize = cmp.Or(c.MaxMessageSize, message.DefaultMaxSize)
	c.GuestTTL = cmp.Or(c.GuestTTL, DefaultGuestTTL)
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.IDGen == nil {
		c.IDGen = new(message.IDGen)
	}
	c.Logger = cmp.Or(c.Logger, slog.New(slog.DiscardHandler))
	return c
}

// check validates c once defaults are applied; each error names its field.
func (c Config) check() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("space: Config.%s %s", field, fmt.Sprintf(format, args...)))
	}
	if c.Prefix == nil {
		bad("Prefix", "is required")
	}
	if c.MaxMembers < 2 {
		bad("MaxMembers", "%d is under 2", c.MaxMembers)
	}
	if c.MaxSpacesPerUser < 1 {
		bad("MaxSpacesPerUser", "%d is under 1", c.MaxSpacesPerUser)
	}
	if c.SendBurst < 1 {
		bad("SendBurst", "%d is under 1", c.SendBurst)
	}
	if c.TypingInterval < 0 {
		bad("TypingInterval", "%v is negative", c.TypingInterval)
	}
	if c.MessageTTL < time.Second {
		bad("MessageTTL", "%v is under a second", c.MessageTTL)
	}
	if c.MaxEmojis < 1 {
		bad("MaxEmojis", "%d is under 1", c.MaxEmojis)
	}
	if c.MaxMessageSize < 1024 {
		bad("MaxMessageSize", "%d is under 1024", c.MaxMessageSize)
	}
	if c.GuestTTL < time.Second || c.GuestTTL > DefaultGuestTTL {
		bad("GuestTTL", "%v is not within 1s..%v", c.GuestTTL, DefaultGuestTTL)
	}
	return errors.Join(errs...)
}
