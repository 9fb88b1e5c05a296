package wsgateway

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/limit"
	"github.com/notifyd/notifyd/internal/lograte"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/protocol"
)

// slowWarnEvery rate-limits the Warn logged for slow consumers and for an
// unavailable Authenticator.
const slowWarnEvery = time.Second

// Gateway is the websocket endpoint and fan-out hub. Create it with New,
// mount it at GET /ws/chat, feed it with Deliver, and stop it with Shutdown.
type Gateway struct {
	// immutable after New
	cfg      Config
	env      *connEnv      // shared by every conn
	hub      *hub          // index and admission; guards itself (hub.mu)
	wakes    wakeList      // writers DeliverDeferred left asleep until EndBatch (wakes.go)
	calls    *tracker      // running ServeHTTP calls and upgraded conns; guards itself
	reads    *historyReads // env.reads: catch-up history reads; nil without History; guards itself
	recounts *recounter    // recounts after a retract; nil without Inbox; guards itself
	stats    *counters     // env.stats: atomic counters
	connects *limit.Keyed  // ConnectRate buckets per client address; guards itself

	nextID atomic.Uint64 // conn_id source

	// Shutdown state: shutOnce runs the first Shutdown's close spread and
	// starts the goroutine that closes drained once every ServeHTTP call
	// has returned.
	shutOnce sync.Once
	drained  chan struct{}
}

// New validates cfg, applies its defaults and returns a Gateway. It starts no
// goroutine.
func New(cfg Config) (*Gateway, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	stats := newCounters()
	var reads *historyReads
	if cfg.History != nil {
		reads = newHistoryReads(cfg.History, cfg.ReplayTimeout, cfg.ReplayConcurrency, stats)
	}
	g := &Gateway{
		cfg: cfg,
		env: &connEnv{
			logger:        cfg.Logger,
			writeTimeout:  cfg.WriteTimeout,
			pingInterval:  cfg.PingInterval,
			muteGrace:     cfg.MuteGrace,
			now:           cfg.Now,
			reads:         reads,
			inbox:         cfg.Inbox,
			inboxPage:     cfg.InboxPage,
			inboxTimeout:  cfg.InboxTimeout,
			badgeInterval: cfg.BadgeInterval,
			stats:         stats,
			warns:         lograte.New(slowWarnEvery, cfg.Now),
			spaces:        cfg.Spaces,
			spacesTimeout: cfg.SpacesTimeout,
		},
		hub:   newHub(),
		calls: newTracker(),
		reads: reads,
		stats: stats,
		connects: limit.New(limit.Config{
			Rate:  cfg.ConnectRate, // negative: disabled
			Burst: cfg.ConnectBurst,
			Now:   cfg.Now,
		}),
		drained: make(chan struct{}),
	}
	g.env.hub = g.hub
	if cfg.Inbox != nil {
		g.recounts = newRecounter(cfg.Inbox, cfg.InboxTimeout, cfg.RecountConcurrency, stats, g.InboxChanged,
			func(err error) {
				stats.inboxErrs.Add(1)
				g.env.warns.WarnOrDebug(cfg.Logger, "inbox", "wsgateway: inbox recount failed", "err", err)
			})
	}
	return g, nil
}

// Deliver enqueues push, the message's push form encoded once by the caller,
// on every connection that should receive m: its site equals m.Host, it is
// not m's sender, and one of its principals is a target principal. The same
// push slice is shared by every recipient and must not be modified
// afterwards. Deliver never blocks; a connection whose queue is full is
// closed with protocol.CloseSlowConsumer. It satisfies pubsub.Sink.
func (g *Gateway) Deliver(m *message.Message, push []byte) {
	if m == nil || len(push) == 0 {
		return
	}
	if m.Category == protocol.SpaceCategory {
		if g.cfg.Spaces != nil {
			g.deliverSpace(m, push)
		}
		return
	}
	it := item{id: m.ID, b: push}
	if g.cfg.Inbox != nil { // counted, unless muted (inbox.go)
		it.meta = &itemMeta{kind: kindMessage, category: m.Category}
	}
	g.count(g.hub.deliver(m, it, nil, nil))
}

// DeliverDeferred is Deliver, except that the writers of the connections
// it enqueued on are woken by the next EndBatch (pubsub.BatchSink): a
// connection that gets several messages of a batch writes them at once.
// Space messages are delivered at once.
func (g *Gateway) DeliverDeferred(m *message.Message, push []byte) {
	if m == nil || len(push) == 0 {
		return
	}
	if m.Category == protocol.SpaceCategory {
		g.Deliver(m, push)
		return
	}
	it := item{id: m.ID, b: push}
	if g.cfg.Inbox != nil {
		it.meta = &itemMeta{kind: kindMessage, category: m.Category}
	}
	g.count(g.hub.deliver(m, it, nil, &g.wakes))
}

// EndBatch wakes the writers DeliverDeferred left asleep.
func (g *Gateway) EndBatch() { g.wakes.wake() }

var _ interface {
	Deliver(m *message.Message, push []byte)
	DeliverDeferred(m *message.Message, push []byte)
	EndBatch()
	DeliverUpdate(m *message.Message, push []byte)
	DeliverRetract(m *message.Message)
	InboxChanged(host, user string, c history.Counts)
	PrefsChanged(host, user string, p history.Prefs)
	Disconnect(principal string) int
	Sites() []string
} = (*Gateway)(nil) // pubsub.Sink, BatchSink, ChangeSink, InboxSink, ControlSink and the gap-fill site source

// Count returns the number of registered (authenticated) connections.
func (g *Gateway) Count() int { return g.hub.len() }

// Stats returns a snapshot of the gateway's counters.
func (g *Gateway) Stats() Stats { return g.stats.snapshot(g.hub.len()) }

// Sites returns the sites (normalized origins) that currently have
// registered connections, sorted. The pubsub subscriber reads their history
// to fill the gap after it resubscribes.
func (g *Gateway) Sites() []string { return g.hub.siteList() }
