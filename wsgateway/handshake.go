package wsgateway

import (
	"context"
	"net/http"

	"github.com/coder/websocket"
	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/protocol"
)

// ServeHTTP handles GET /ws/chat: the connection rate of the client address,
// origin and site checks, the gateway's capacity, the token, the principal's
// connection limit, the upgrade, then the connection's whole life. Every
// refusal that does not need the socket is an HTTP error before the upgrade;
// a token problem is told over the socket (browsers cannot read the status
// of a refused upgrade). ServeHTTP returns when the connection has ended and
// every goroutine it started has been joined.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !g.hub.enter() {
		g.reject(RejectShutdown)
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	defer g.hub.leave()

	host, ok := g.precheck(w, r)
	if !ok {
		return
	}
	if !g.hub.reserve(g.cfg.MaxConnections) {
		g.reject(RejectCapacity)
		http.Error(w, "too many connections on this gateway", http.StatusServiceUnavailable)
		return
	}
	defer g.hub.release()

	// The token is verified before the upgrade: the per-principal limit
	// needs the identity. r.Context() is still valid here.
	token, source := auth.TokenFromRequest(r)
	since := r.URL.Query().Get("since")
	gen := g.hub.beginAdmission() // before Verify: see slots
	admitting := true
	defer func() {
		if admitting {
			g.hub.abandonAdmission()
		}
	}()
	id, verr := g.cfg.Auth.Verify(r.Context(), token)
	if verr == nil {
		verr = id.CheckSite(host) // a site-bound token used for another site is invalid here
	}
	if verr != nil { // refused: nothing to admit
		admitting = false
		g.hub.abandonAdmission()
	} else {
		if !g.hub.reservePrincipal(id.Principal, g.cfg.MaxConnectionsPerPrincipal) {
			g.reject(RejectPrincipalLimit)
			g.cfg.Logger.Debug("wsgateway: principal over its connection limit", "principal", id.Principal)
			http.Error(w, "too many connections for this principal", http.StatusTooManyRequests)
			return
		}
		defer g.hub.releasePrincipal(id.Principal)
	}

	ws, err := g.upgrade(w, r)
	if err != nil { // Accept has written the HTTP error
		g.reject(RejectHandshake)
		g.cfg.Logger.Debug("wsgateway: upgrade failed", "err", err)
		return
	}

	// The connection's own lifetime context: r.Context() must not be used
	// after the upgrade (the connection is hijacked). It ends when ServeHTTP
	// returns.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	c := newConn(g.nextID.Add(1), ws, host, g.cfg.QueueSize)
	if verr == nil {
		c.principal = id.Principal
		c.principals = id.Principals
		c.expires = id.Expires
		c.issuedAt = id.IssuedAt
		c.since = since
		c.catchUp = since != ""
	}
	log := g.cfg.Logger.With("conn_id", c.id, "host", host)
	open := g.hub.attach(c)
	defer g.hub.detach(c)
	if !open {
		g.reject(RejectShutdown)
		_ = ws.Close(protocol.CloseGoingAway, protocol.ReasonShutdown)
		return
	}
	if verr != nil {
		req, reason := refusalFor(verr)
		g.reject(reason)
		g.logRefusal(log, reason, source, verr)
		g.refuse(ctx, ws, req)
		return
	}
	admitting = false // admit ends the admission
	if !g.hub.admit(c, gen) {
		g.reject(RejectRevoked)
		log.Debug("wsgateway: principal disconnected during the handshake", "principal", id.Principal)
		g.refuse(ctx, ws, refuseRevoked)
		return
	}
	g.stats.accepted.Add(1)
	log = log.With("principal", id.Principal)
	log.Debug("wsgateway: connected", "token_source", source, "catch_up", c.catchUp)

	g.serve(ctx, c)

	g.stats.disconnects[c.req.reason].Add(1) // before remove: Count() == 0 implies counted
	g.hub.remove(c)
	g.logDisconnect(log, c.req)
}

// precheck applies the checks that need neither the token nor a slot: the
// connection rate of the client address, the origin and the site. It writes
// the HTTP error and reports false for a refused request.
func (g *Gateway) precheck(w http.ResponseWriter, r *http.Request) (host string, ok bool) {
	if addr := clientIP(r, g.cfg.ClientIPHeader); !g.connects.Allow(addr) {
		g.reject(RejectRate)
		g.cfg.Logger.Debug("wsgateway: connection rate exceeded", "client", addr)
		w.Header().Set("Retry-After", "1")
		http.Error(w, "too many new connections from this address", http.StatusTooManyRequests)
		return "", false
	}
	if err := g.cfg.Sites.Check(r); err != nil {
		g.reject(RejectOrigin)
		g.cfg.Logger.Debug("wsgateway: origin refused", "origin", r.Header.Get("Origin"), "err", err)
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return "", false
	}
	host = g.cfg.Sites.Of(r)
	if host == "" {
		g.reject(RejectNoSite)
		http.Error(w, "no site: send Origin or ?host=", http.StatusBadRequest)
		return "", false
	}
	return host, true
}

// upgrade accepts the websocket handshake.
func (g *Gateway) upgrade(w http.ResponseWriter, r *http.Request) (*websocket.Conn, error) {
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		// PyAMS's client offers ["accessToken", <jwt>]; the library selects
		// the first offered protocol we support, which is accessToken.
		Subprotocols: []string{auth.SubProtocol},
		// The origin was checked above by Sites.Check, which knows the
		// allowed origins, "*" and same-origin; the library's own check
		// (host patterns only) would contradict it.
		InsecureSkipVerify: true,
		// Pushes are small and already shared between recipients;
		// per-connection compression would cost CPU and memory per socket.
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(g.cfg.ReadLimit)
	return ws, nil
}
