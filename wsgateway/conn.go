package wsgateway

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/notifyd/notifyd/protocol"
)

// conn is one websocket client as the hub and its goroutines see it.
type conn struct {
	// immutable after ServeHTTP sets them, before the conn is indexed
	id         uint64
	ws         *websocket.Conn // nil for hub-only conns in tests and benchmarks
	site       string          // normalized (lower-case) origin
	principal  string          // the identity's own principal: messages it sent are not echoed
	principals []string        // every principal it is indexed under
	expires    time.Time       // token expiry; zero means none
	issuedAt   time.Time       // token iat; zero means none (RecheckRevocations)
	catchUp    bool            // ?since= was given: the writer replays history first
	since      string          // the since cursor, raw (replay validates it)

	// send is the bounded queue: Deliver and the reader enqueue without
	// blocking, the writer is the only receiver.
	send chan item

	// readDone is closed by the reader when it returns; the writer then
	// ends the connection unless a reason was already recorded. Routing this
	// through the writer keeps the writer's own failures (write timeout)
	// from being reported as the client's.
	readDone chan struct{}

	// guarded by hub.mu
	indexed bool
	// set by hub.addLocked when c is indexed, before its writer starts; read
	// by the writer only
	regSeq uint64

	// set once by the first stop call (stopOnce), before closing is closed;
	// read by others only after <-closing
	stopOnce sync.Once
	stopping atomic.Bool // true once stop was called: Deliver skips the conn
	closing  chan struct{}
	req      closeRequest
}

// item is one queued frame: the shared bytes and, for a message, its id, so
// that the writer can skip at the catch-up seam what replay already sent. It
// is a small value copied into the channel buffer: no allocation per
// recipient.
type item struct {
	id string // message id; "" for frames that are not messages (PONG)
	b  []byte // shared, never modified
}

// closeRequest is why and how a connection ends.
type closeRequest struct {
	reason DisconnectReason
	code   websocket.StatusCode // 0: close without a handshake (the peer is gone)
	text   string
	logout bool // send protocol.LogoutFrame before closing
}

// Close requests, by cause.
var (
	stopSlow     = closeRequest{reason: DisconnectSlow, code: protocol.CloseSlowConsumer, text: protocol.ReasonSlow}
	stopExpired  = closeRequest{reason: DisconnectExpired, code: protocol.CloseUnauthorized, text: protocol.ReasonExpired, logout: true}
	stopShutdown = closeRequest{reason: DisconnectShutdown, code: protocol.CloseGoingAway, text: protocol.ReasonShutdown}
	stopBinary   = closeRequest{reason: DisconnectBinary, code: protocol.CloseUnsupportedData, text: protocol.ReasonBinary}
	stopTooBig   = closeRequest{reason: DisconnectTooBig, code: protocol.CloseTooBig, text: protocol.ReasonTooBig}
	stopClient   = closeRequest{reason: DisconnectClient}
	stopWrite    = closeRequest{reason: DisconnectWriteTimeout}
	stopPing     = closeRequest{reason: DisconnectPing}
	stopRevoked  = closeRequest{reason: DisconnectRevoked, code: protocol.CloseRevoked, text: protocol.ReasonDisconnected}
)

func newConn(id uint64, ws *websocket.Conn, site string, queueSize int) *conn {
	return &conn{
		id:       id,
		ws:       ws,
		site:     site,
		send:     make(chan item, queueSize),
		readDone: make(chan struct{}),
		closing:  make(chan struct{}),
	}
}

// stop records why the connection ends and signals its writer. Only the
// first call counts, and only it reports true. It never blocks and never
// touches the socket, so it is safe inside Deliver and under the hub lock.
func (c *conn) stop(req closeRequest) (first bool) {
	c.stopOnce.Do(func() {
		c.req = req
		c.stopping.Store(true)
		close(c.closing)
		first = true
	})
	return first
}

// enqueue offers it to the writer without blocking; a full queue stops the
// connection as a slow consumer and reports false.
func (c *conn) enqueue(it item) bool {
	select {
	case c.send <- it:
		return true
	default:
		c.stop(stopSlow)
		return false
	}
}

// has reports whether the connection carries principal p.
func (c *conn) has(p string) bool {
	return slices.Contains(c.principals, p)
}
