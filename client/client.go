package client

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/notifyd/notifyd/internal/backoff"
)

// ErrRunning is returned by Run when the client is already running.
var ErrRunning = errors.New("client: already running")

// Client is one logical subscription to notifyd that survives reconnects.
// Create it with New and drive it with Run.
type Client struct {
	// immutable after New
	cfg  Config
	urls []string // cfg.URL then cfg.Fallbacks
	bo   backoff.Backoff

	// owned by Run's goroutine
	seen   *recent     // ids recently passed to OnMessage
	urlIdx int         // index in urls of the next dial
	events chan func() // to the listeners' goroutine; nil outside Run (listeners are then called inline)

	mu sync.Mutex
	// guarded by mu
	live  *conn                    // the connection commands use; nil between connections
	ready chan struct{}            // closed when live is set; replaced when it is cleared
	subs  map[string]*subscription // subscribed spaces, resubscribed on every connection

	// atomic
	running atomic.Bool
	lastID  atomic.Pointer[string]
	rid     atomic.Uint64 // the last command's rid
	stats   counters
}

// New validates cfg, applies its defaults and returns a Client. It starts no
// goroutine.
func New(cfg Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Client{
		cfg:   cfg,
		urls:  append([]string{cfg.URL}, cfg.Fallbacks...),
		bo:    backoff.Backoff{Min: cfg.BackoffMin, Max: cfg.BackoffMax, Jitter: backoff.Full},
		seen:  newRecent(cfg.DedupSize),
		ready: make(chan struct{}),
		subs:  make(map[string]*subscription),
	}
	since := cfg.Since
	c.lastID.Store(&since)
	return c, nil
}

// LastID returns the id of the newest message passed to OnMessage (or
// Config.Since before the first one): the cursor the next dial sends as
// ?since=.
func (c *Client) LastID() string { return *c.lastID.Load() }

// Stats returns a snapshot of the client's counters.
func (c *Client) Stats() Stats { return c.stats.snapshot() }

// Stats counts what a Client did since New.
type Stats struct {
	Dials       uint64 // websocket handshakes attempted
	Connects    uint64 // connections established (first PONG or message)
	Pongs       uint64 // PONG frames received
	Disconnects uint64 // dialled connections that ended (not counting Run's end)
	Refused     uint64 // connections whose token was refused (logout, 4001, 4003)
	Messages    uint64 // messages passed to OnMessage
	Duplicates  uint64 // messages dropped because their id was seen recently
	Gaps        uint64 // gap frames received
	Invalid     uint64 // frames that were neither control frames nor messages
	Events      uint64 // other frames passed to a listener (inbox, update, retract, chat, typing, ...)
	Commands    uint64 // commands sent
	CommandErrs uint64 // commands answered with an error
	Acks        uint64 // ack frames written (Config.Device)
}

type counters struct {
	dials, connects, pongs, disconnects, refused, messages, duplicates, gaps, invalid atomic.Uint64
	events, commands, commandErrs, acks                                               atomic.Uint64
}

func (s *counters) snapshot() Stats {
	return Stats{
		Dials: s.dials.Load(), Connects: s.connects.Load(), Pongs: s.pongs.Load(), Disconnects: s.disconnects.Load(),
		Refused: s.refused.Load(), Messages: s.messages.Load(), Duplicates: s.duplicates.Load(),
		Gaps: s.gaps.Load(), Invalid: s.invalid.Load(), Events: s.events.Load(), Commands: s.commands.Load(),
		CommandErrs: s.commandErrs.Load(), Acks: s.acks.Load(),
	}
}
