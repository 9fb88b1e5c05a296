package wsgateway

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/coder/websocket"
	"github.com/notifyd/notifyd/internal/auth"
)

// ServeHTTP handles GET /ws/chat: origin and site checks, the upgrade,
// authentication, then the connection's whole life. It returns when the
// connection has ended and every goroutine it started has been joined.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !g.hub.enter() {
		g.reject(RejectShutdown)
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	defer g.hub.leave()

	if err := g.cfg.Sites.Check(r); err != nil {
		g.reject(RejectOrigin)
		g.cfg.Logger.Debug("wsgateway: origin refused", "origin", r.Header.Get("Origin"), "err", err)
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	host := g.cfg.Sites.Of(r)
	if host == "" {
		g.reject(RejectNoSite)
		http.Error(w, "no site: send Origin or ?host=", http.StatusBadRequest)
		return
	}
	token, source := auth.TokenFromRequest(r)

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
	if err != nil { // Accept has written the HTTP error
		g.reject(RejectHandshake)
		g.cfg.Logger.Debug("wsgateway: upgrade failed", "err", err)
		return
	}
	ws.SetReadLimit(g.cfg.ReadLimit)

	// The connection's own lifetime context: r.Context() must not be used
	// after the upgrade (the connection is hijacked). It ends when ServeHTTP
	// returns.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	c := newConn(g.nextID.Add(1), ws, host, g.cfg.QueueSize)
	log := g.cfg.Logger.With("conn_id", c.id, "host", host)
	open := g.hub.attach(c)
	defer g.hub.detach(c)
	if !open {
		g.reject(RejectShutdown)
		_ = ws.Close(CloseGoingAway, reasonShutdown)
		return
	}

	id, err := g.cfg.Auth.Verify(ctx, token)
	if err != nil {
		g.reject(RejectToken)
		log.Debug("wsgateway: token refused", "token_source", source, "err", err)
		g.refuse(ctx, ws, err)
		return
	}
	c.principal = id.Principal
	c.principals = id.Principals
	c.expires = id.Expires
	g.hub.add(c)
	g.stats.accepted.Add(1)
	log = log.With("principal", id.Principal)
	log.Debug("wsgateway: connected", "token_source", source)

	g.serve(ctx, c)

	g.stats.disconnects[c.req.reason].Add(1) // before remove: Count() == 0 implies counted
	g.hub.remove(c)
	g.logDisconnect(log, c.req)
}

// refuse tells the client its token is unusable the way PyAMS's client
// understands (the logout frame), then closes with CloseUnauthorized.
func (g *Gateway) refuse(ctx context.Context, ws *websocket.Conn, err error) {
	reason := reasonUnauthorized
	if errors.Is(err, auth.ErrExpired) {
		reason = reasonExpired
	}
	wctx, cancel := context.WithTimeout(ctx, g.cfg.WriteTimeout)
	defer cancel()
	if werr := ws.Write(wctx, websocket.MessageText, logoutFrame); werr != nil {
		_ = ws.CloseNow()
		return
	}
	_ = ws.Close(CloseUnauthorized, reason)
}

func (g *Gateway) reject(r RejectReason) { g.stats.rejected[r].Add(1) }

// logDisconnect logs an ended connection: slow consumers at Warn, at most
// once a second (Debug otherwise), everything else at Debug.
func (g *Gateway) logDisconnect(log *slog.Logger, req closeRequest) {
	level := slog.LevelDebug
	if req.reason == DisconnectSlow {
		now := g.cfg.Now().UnixNano()
		last := g.lastWarn.Load()
		if now-last >= int64(slowWarnEvery) && g.lastWarn.CompareAndSwap(last, now) {
			level = slog.LevelWarn
		}
	}
	log.Log(context.Background(), level, "wsgateway: disconnected", "reason", string(req.reason), "code", int(req.code))
}
