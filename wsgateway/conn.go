package wsgateway

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/limit"
	"github.com/notifyd/notifyd/internal/lograte"
)

// connEnv is what every connection of a Gateway shares: the settings and
// collaborators its goroutines need. Immutable after New.
type connEnv struct {
	logger        *slog.Logger // the gateway's (conn.logger)
	writeTimeout  time.Duration
	pingInterval  time.Duration // <= 0: no pinger
	muteGrace     time.Duration // how long a muted conn may stay open
	now           func() time.Time
	reads         *historyReads // nil without Config.History
	inbox         Inbox         // nil without Config.Inbox
	inboxPage     int
	inboxTimeout  time.Duration
	badgeInterval time.Duration // <= 0: an inbox frame per message (badge.go)
	stats         *counters
	warns         *lograte.Limiter // rate-limits the slow-consumer and auth-unavailable Warns
	spaces        Spaces           // nil without Config.Spaces (spaces.go, command.go)
	spacesTimeout time.Duration    // bounds each Spaces call
	hub           *hub             // the gateway's hub: subscribe and unsubscribe
}

// conn is one upgraded websocket client. It owns its life once admitted:
// run reads in the calling goroutine and starts, then joins, the writer
// (which replays history first when asked, and performs the close) and the
// pinger. Anyone may ask it to end (stop); only its writer closes the socket
// (close).
type conn struct {
	// immutable after ServeHTTP sets them, before the conn is admitted
	env        *connEnv
	id         uint64
	ws         *websocket.Conn // nil for hub-only conns in tests and benchmarks
	raw        *wireConn       // the hijacked connection under ws; nil with ws
	site       string          // normalized (lower-case) origin
	principal  string          // the identity's own principal: messages it sent are not echoed
	principals []string        // every principal it is indexed under
	expires    time.Time       // token exp plus the verifier's leeway; zero means none
	issuedAt   time.Time       // token iat; zero means none (RecheckRevocations)
	leeway     time.Duration   // the verifier's clock-skew leeway (RecheckRevocations)
	catchUp    bool            // ?since= was given: the writer replays history first
	since      string          // the since cursor when it is a well-formed id, else ""
	muteOnExp  bool            // muted, not closed, when its token expires (mute.go)
	title      string          // the identity's title: a space message's sender title
	pyams      bool            // PyAMS's browser client (subprotocol): no activity events
	sse        bool            // a server-sent events stream (sse.go), not a websocket

	// the connection's spaces, id -> subscribed (spaces.go); guarded by the
	// hub's lock
	spaces spaceSet
	// ids this connection sent (command.go); guards itself
	sent sentIDs
	// the typing and command buckets (command.go); owned by the reader
	typing, commands limit.Bucket

	// immutable after ServeHTTP sets them; only with Config.Inbox (inbox.go)
	reader history.Reader // site, principal and principals: whose inbox
	device string         // ?device=: acks and resume; "" when none
	acks   *acker         // nil without a device (ack.go)
	// inboxCalls cancels the connection's Inbox calls in flight when it
	// is asked to end or its reader ends (cancelInbox), so that no call
	// outlives the connection's usefulness
	inboxCalls *inboxCalls

	// owned by the writer (inbox.go)
	ib inboxState

	// set by ticket.admit under the hub lock, before run; read by the writer
	ticket *ticket

	// owned by the writer (wire.go)
	batch      *[]byte // frames not yet written; nil between batches
	batchInbox uint64  // inbox frames in batch (Stats.InboxFrames once sent)
	batching   bool    // draining: frame does not flush each frame
	frameID    string  // the id of the message frame writes next (a stream's event id); cleared by frame
	wfailed    bool    // a write failed: the socket is closed

	// owned by the writer (mute.go)
	muted     bool        // the token expired and the conn was muted
	muteTimer *time.Timer // fires MuteGrace after the mute

	// the writer's runs (write.go): wrun is set while a run goes on (and
	// from newConn until run starts the first one, and after the last);
	// the rest is owned by the running writer
	wrun        atomic.Bool
	writeDone   sync.WaitGroup // done by the run that closed the connection (finish)
	seen        idSet          // ids the replay or catch-up sent
	spare       []item         // the queue's other buffer (queue.take)
	expiry      *time.Timer    // closes expiredC at the token's expiry; nil when none
	expiredC    chan struct{}
	expiredDone atomic.Bool // the writer acted on expiredC
	badgeFired  atomic.Bool // the badge timer fired; the writer has yet to act (badge.go)

	// send is the bounded queue (queue.go): Deliver and the reader enqueue
	// without blocking, the writer is the only receiver.
	send *queue

	// readDone is closed by the reader when it returns; the writer then
	// ends the connection unless a reason was already recorded. Routing this
	// through the writer keeps the writer's own failures (write timeout)
	// from being reported as the client's.
	readDone chan struct{}

	// set by run before the writer starts, after the conn was indexed; read
	// by the writer only (historyReads.wait)
	regSeq uint64

	// set once by the first stop call (stopOnce), before closing is closed;
	// read by others only after <-closing (close.go)
	stopOnce sync.Once
	stopping atomic.Bool // true once stop was called: Deliver skips the conn
	closing  chan struct{}
	req      closeRequest

	wakeListed atomic.Bool // in the gateway's wakeList (wakes.go)
}

// item is one queued frame: the shared bytes and, for a message, its id, so
// that the writer can skip at the catch-up seam what replay already sent. It
// is a small value copied into the channel buffer: no allocation per
// recipient.
type item struct {
	id   string    // message id; "" for frames that are not messages (PONG, update, retract)
	b    []byte    // shared, never modified
	meta *itemMeta // with Config.Inbox; shared, never modified (inbox.go)
}

func newConn(env *connEnv, id uint64, ws *websocket.Conn, site string, queueSize int) *conn {
	c := &conn{
		env:      env,
		id:       id,
		ws:       ws,
		site:     site,
		send:     newQueue(queueSize),
		readDone: make(chan struct{}),
		closing:  make(chan struct{}),
		expiredC: make(chan struct{}),
	}
	c.wrun.Store(true) // no run before run starts the first
	c.writeDone.Add(1)
	c.send.kick = c.kick
	return c
}

// run serves an admitted (indexed) connection until it ends: the calling
// goroutine reads, writer runs write while there is something to write
// (writeRuns), a timer pings (startPings). It returns after joining them;
// the last writer run has then closed the socket and counted the reason.
//
// No context is held for the connection's life: each of its goroutines
// ends on c's own signals (closing, readDone, the closed socket), each of
// its calls is bounded by its own timeout (and an Inbox call by
// cancelInbox). A lifetime cancelCtx, which the library's reads register
// with (an AfterFunc per read), cost an idle connection about 1 KB
// (issue 9).
func (c *conn) run() {
	ctx := context.Background()
	defer c.cancelInbox()
	if c.catchUp && c.env.reads != nil && c.env.inbox == nil {
		c.regSeq = c.env.reads.register() // after indexing: see historyReads
	}
	var wg sync.WaitGroup
	go c.writeLoop(ctx) // owned by run: it waits for writeDone
	defer c.writeDone.Wait()
	if c.sse {
		beats := c.startSSEHeartbeats()
		c.sseReadLoop()
		beats.stop()
		return
	}
	pings := c.startPings()
	if c.acks != nil {
		wg.Go(func() { c.ackLoop(ctx) })
	}
	c.readLoop(ctx) // returns once the socket is closed or failed
	pings.stop()
	wg.Wait()
}

// cancelInbox cancels c's Inbox calls in flight, and every later one.
func (c *conn) cancelInbox() { c.inboxCalls.end() }

// logger returns c's logger: the gateway's, with conn_id, host and, once
// authenticated, principal. It is built when needed, not kept: an idle
// connection logs nothing, and two slog clones cost it about 350 bytes
// (issue 9).
func (c *conn) logger() *slog.Logger {
	l := c.env.logger.With("conn_id", c.id, "host", c.site)
	if c.principal != "" {
		l = l.With("principal", c.principal)
	}
	return l
}

// debug logs at debug level with c's logger, built only when the level is
// enabled.
func (c *conn) debug(msg string, args ...any) {
	if c.env.logger.Enabled(context.Background(), slog.LevelDebug) {
		c.logger().Debug(msg, args...)
	}
}

// slackFactor is how far past QueueSize a connection's queue may grow
// while its socket takes everything written (the server is behind, not the
// client): QueueSize times this bounds its memory.
const slackFactor = 16

// enqueue offers it to the writer without blocking and reports whether it
// was queued. A slow consumer is a client that does not read: a full queue
// stops the connection (stopSlow) when its writer is blocked writing to the
// socket, or when the queue holds slackFactor times QueueSize items; while
// the socket takes what is written, the queue grows (a gateway short of
// CPU is behind its clients, not the other way round).
func (c *conn) enqueue(it item) bool { return c.enqueueTo(it, nil) }

// enqueueTo is enqueue; with wakes, the writer is not woken but c is added
// to wakes.
func (c *conn) enqueueTo(it item, wakes *wakeList) bool {
	queued := c.send.pushQuiet(it, c.send.limit) ||
		(c.raw == nil || !c.raw.blocked()) && c.send.pushQuiet(it, slackFactor*c.send.limit)
	if !queued {
		c.stop(stopSlow)
		return false
	}
	if wakes == nil {
		c.send.signal()
	} else {
		wakes.add(c)
	}
	return true
}

// has reports whether the connection carries principal p.
func (c *conn) has(p string) bool {
	return slices.Contains(c.principals, p)
}
