package wsgateway

import (
	"bufio"
	"net"
	"net/http"
	"time"

	"github.com/coder/websocket"
	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/clientip"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/protocol"
	"github.com/notifyd/notifyd/site"
)

// MaxSiteLength is the longest site an origin can name (site.MaxLength).
const MaxSiteLength = site.MaxLength

// maxLoggedBytes bounds a client-controlled value in a log.
const maxLoggedBytes = 256

// clip returns s, cut to maxLoggedBytes, for a log.
func clip(s string) string {
	if len(s) > maxLoggedBytes {
		return s[:maxLoggedBytes]
	}
	return s
}

// handshake is what ServeHTTP learnt about a request before the upgrade.
type handshake struct {
	host   string        // the site
	source string        // where the token came from, for logs
	since  string        // the ?since= cursor, raw
	device string        // the ?device= id, valid or ""
	id     auth.Identity // valid when err is nil
	spaces spaceSet      // the user's spaces (Config.Spaces), read before the upgrade
	gen    uint64        // the membership generation before spaces was read
	err    error         // why the token was refused; told over the socket
	start  time.Time     // ServeHTTP's entry, for the handshake durations
}

// ServeHTTP handles GET /ws/chat: the connection rate of the client address,
// origin and site checks, the gateway's capacity, the token, the principal's
// connection limit, the upgrade, then the connection's whole life. Every
// refusal that does not need the socket is an HTTP error before the upgrade;
// a token problem is told over the socket (browsers cannot read the status
// of a refused upgrade). Once upgraded, the connection is handed to a
// goroutine of its own (serveConn) and ServeHTTP returns, so that neither
// net/http's per-request state (its 4 KB response buffer, the request and
// its headers) nor the handshake's grown stack stays with an idle socket;
// Shutdown waits for those goroutines as it waits for ServeHTTP calls. The
// time from its entry to the admission or the refusal is recorded
// (Stats.HandshakeAccepted, HandshakeRefused).
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	upgraded := false
	defer func() {
		if !upgraded { // refused with an HTTP error, or by the library
			g.stats.refused.Since(start)
		}
	}()
	if !g.calls.enter() {
		g.rejectHTTP(w, RejectShutdown)
		return
	}
	handedOff := false // the connection's goroutine leaves and releases
	defer func() {
		if !handedOff {
			g.calls.leave()
		}
	}()
	host, ok := g.precheck(w, r)
	if !ok {
		return
	}
	t := g.hub.issue(g.cfg.MaxConnections) // the one admission value of this call
	if t == nil {
		g.rejectHTTP(w, RejectCapacity)
		return
	}
	defer func() {
		if !handedOff {
			t.release()
		}
	}()
	hs, ok := g.authenticate(w, r, t, host)
	if !ok {
		return
	}
	ws, raw, err := g.upgrade(w, r)
	if err != nil { // Accept has written the HTTP error
		g.reject(RejectHandshake)
		g.cfg.Logger.Debug("wsgateway: upgrade failed", "err", err)
		return
	}
	upgraded = true
	hs.start = start
	handedOff = true
	go func() { // owned by g.calls: Shutdown waits for it
		defer g.calls.leave()
		defer t.release()
		g.serveConn(ws, raw, t, hs)
	}()
}

// precheck applies the checks that need neither the token nor a slot: the
// connection rate of the client address, the origin, the site and the
// device id. It writes
// the HTTP error and reports false for a refused request.
func (g *Gateway) precheck(w http.ResponseWriter, r *http.Request) (host string, ok bool) {
	if addr := clientip.FromRequest(r, g.cfg.ClientIPHeader); !g.connects.Allow(addr) {
		g.cfg.Logger.Debug("wsgateway: connection rate exceeded", "client", addr)
		g.rejectHTTP(w, RejectRate)
		return "", false
	}
	if err := g.cfg.Sites.Check(r); err != nil {
		// err repeats the origin in full: log the origin, clipped.
		g.cfg.Logger.Debug("wsgateway: origin refused", "origin", clip(r.Header.Get("Origin")))
		g.rejectHTTP(w, RejectOrigin)
		return "", false
	}
	switch host = g.cfg.Sites.Of(r); {
	case host == "":
		g.rejectHTTP(w, RejectNoSite)
		return "", false
	case len(host) > MaxSiteLength: // the site keys the index, history reads and logs
		g.rejectHTTP(w, RejectSiteTooLong)
		return "", false
	}
	if d := r.URL.Query().Get("device"); d != "" && !validDevice(d) {
		g.rejectHTTP(w, RejectDevice)
		return "", false
	}
	return host, true
}

// authenticate verifies the request's token before the upgrade, while
// r.Context() is valid, because the per-principal limit needs the identity;
// then it claims the principal's slot on t. A refused token releases t (a
// refused socket is not a connection and holds no slot) and is recorded in
// the result, to be told over the socket. It reports false, having written
// the HTTP error, only when the principal is over its connection limit.
func (g *Gateway) authenticate(w http.ResponseWriter, r *http.Request, t *ticket, host string) (handshake, bool) {
	token, source := auth.TokenFromRequest(r)
	q := r.URL.Query()
	hs := handshake{host: host, source: source, since: q.Get("since"), device: q.Get("device")}
	hs.id, hs.err = g.cfg.Auth.Verify(r.Context(), token)
	if hs.err == nil {
		hs.err = hs.id.CheckSite(host) // a site-bound token used for another site is invalid here
	}
	if hs.err != nil {
		t.release() // nothing to admit
		return hs, true
	}
	if !t.claim(hs.id.Principal, g.cfg.MaxConnectionsPerPrincipal) {
		g.cfg.Logger.Debug("wsgateway: principal over its connection limit", "principal", hs.id.Principal)
		g.rejectHTTP(w, RejectPrincipalLimit)
		return hs, false
	}
	if g.cfg.Spaces != nil {
		hs.gen = g.hub.generation(host, hs.id.Principal)
		hs.spaces = g.loadSpaces(r.Context(), host, hs.id.Principal)
	}
	return hs, true
}

// upgrade accepts the websocket handshake. It returns the websocket and the
// hijacked connection under it, whose deadline bounds a refusal's close
// (see conn.refuse).
func (g *Gateway) upgrade(w http.ResponseWriter, r *http.Request) (*websocket.Conn, *wireConn, error) {
	hw := &hijackWriter{ResponseWriter: w, writeTimeout: g.cfg.WriteTimeout}
	ws, err := websocket.Accept(hw, r, &websocket.AcceptOptions{
		// PyAMS's client offers ["accessToken", <jwt>]; the library selects
		// the first offered protocol we support, which is accessToken.
		Subprotocols: []string{protocol.SubProtocol},
		// The origin was checked above by Sites.Check, which knows the
		// allowed origins, "*" and same-origin; the library's own check
		// (host patterns only) would contradict it.
		InsecureSkipVerify: true,
		// Pushes are small and already shared between recipients;
		// per-connection compression would cost CPU and memory per socket.
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		return nil, nil, err
	}
	ws.SetReadLimit(g.cfg.ReadLimit)
	return ws, hw.conn, nil
}

// hijackWriter is the ResponseWriter handed to websocket.Accept: it puts a
// wireConn under the connection Accept hijacks (see wire.go) and keeps it,
// since the library does not expose it.
type hijackWriter struct {
	http.ResponseWriter
	conn         *wireConn     // set by Hijack
	writeTimeout time.Duration // bounds every write of conn (wireConn.timeout)
}

func (w *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return c, brw, err
	}
	w.conn, brw = wrapHijacked(c, brw, w.writeTimeout)
	return w.conn, brw, nil
}

// Unwrap lets http.ResponseController reach the wrapped writer.
func (w *hijackWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// serveConn runs an upgraded connection: it is refused (shutdown begun,
// token refused, principal disconnected during the handshake) or admitted
// through t and served until it ends. A refused connection gives back t's
// slots before it is told: it is not a connection. r.Context() must not be
// used from here on: the connection is hijacked.
func (g *Gateway) serveConn(ws *websocket.Conn, raw *wireConn, t *ticket, hs handshake) {
	c := g.newConn(ws, raw, hs)
	open := g.calls.attach(c)
	defer g.calls.detach(c)
	var req closeRequest
	switch {
	case !open:
		g.reject(RejectShutdown)
		req = stopShutdown
	case hs.err != nil:
		var reason RejectReason
		req, reason = refusalFor(hs.err)
		g.reject(reason)
		c.logRefusal(reason, hs.source, hs.err)
	case !t.admit(c):
		g.reject(RejectRevoked)
		c.debug("wsgateway: principal disconnected during the handshake")
		req = refuseRevoked
	default:
		g.stats.accepted.Add(1)
		g.stats.admitted.Since(hs.start)
		c.debug("wsgateway: connected", "token_source", hs.source, "catch_up", c.catchUp)
		g.settleSpaces(c, hs.gen)
		c.run()
		return
	}
	g.stats.refused.Since(hs.start)
	t.release()
	c.refuse(req)
}

// newConn returns the connection of an upgraded request.
func (g *Gateway) newConn(ws *websocket.Conn, raw *wireConn, hs handshake) *conn {
	c := newConn(g.env, g.nextID.Add(1), ws, hs.host, g.cfg.QueueSize)
	c.raw = raw
	if hs.err == nil {
		c.principal = hs.id.Principal
		c.principals = hs.id.Principals
		c.expires = hs.id.ValidUntil() // the instant Verify starts refusing the token
		c.issuedAt = hs.id.IssuedAt
		c.leeway = hs.id.Leeway
		c.catchUp = hs.since != ""
		if message.ValidID(hs.since) { // never kept, nor echoed, otherwise: the gap frame says ""
			c.since = hs.since
		}
		c.muteOnExp = g.cfg.ExpiryMode == ExpiryMute && hs.source == auth.SourceSubprotocol
		c.pyams = hs.source == auth.SourceSubprotocol
		c.title = hs.id.Title
		c.spaces = hs.spaces
		if g.cfg.Inbox != nil {
			c.reader = history.Reader{Host: hs.host, User: hs.id.Principal, Principals: hs.id.Principals}
			c.inboxCalls = new(inboxCalls)
			if hs.device != "" { // precheck validated it
				c.device = hs.device
				c.acks = newAcker()
			}
		}
	}
	return c
}
