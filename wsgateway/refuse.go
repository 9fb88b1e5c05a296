package wsgateway

import (
	"context"
	"errors"
	"log/slog"

	"github.com/coder/websocket"
	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/protocol"
)

// Refusals of an upgraded connection that is never registered. Their reason
// field is unused: refusals are counted as RejectReason.
var (
	refuseInvalid     = closeRequest{code: protocol.CloseUnauthorized, text: protocol.ReasonUnauthorized, logout: true}
	refuseExpired     = closeRequest{code: protocol.CloseUnauthorized, text: protocol.ReasonExpired, logout: true}
	refuseRevoked     = closeRequest{code: protocol.CloseUnauthorized, text: protocol.ReasonRevoked, logout: true}
	refuseUnavailable = closeRequest{code: protocol.CloseTryAgainLater, text: protocol.ReasonUnavailable}
)

// refusalFor maps an Authenticator error to the refusal the client gets and
// the reason it is counted under. A token problem (none, invalid, expired,
// revoked) logs the client out; anything else (auth.ErrUnavailable: the
// revocation list could not be read) says "try again later" without the
// logout frame, because the token may well be fine.
func refusalFor(err error) (closeRequest, RejectReason) {
	switch {
	case errors.Is(err, auth.ErrRevoked):
		return refuseRevoked, RejectRevoked
	case errors.Is(err, auth.ErrExpired):
		return refuseExpired, RejectToken
	case errors.Is(err, auth.ErrNoToken), errors.Is(err, auth.ErrInvalidToken):
		return refuseInvalid, RejectToken
	default:
		return refuseUnavailable, RejectUnavailable
	}
}

// refuse sends req's logout frame when it asks for one, then closes with
// req's code.
func (g *Gateway) refuse(ctx context.Context, ws *websocket.Conn, req closeRequest) {
	if req.logout {
		wctx, cancel := context.WithTimeout(ctx, g.cfg.WriteTimeout)
		err := ws.Write(wctx, websocket.MessageText, protocol.LogoutFrame)
		cancel()
		if err != nil {
			_ = ws.CloseNow()
			return
		}
	}
	_ = ws.Close(req.code, req.text)
}

// logRefusal logs a refused token at Debug; an unavailable Authenticator is
// an operational problem, logged at Warn at most once a second.
func (g *Gateway) logRefusal(log *slog.Logger, reason RejectReason, source string, err error) {
	args := []any{"reason", string(reason), "token_source", source, "err", err}
	if reason == RejectUnavailable {
		g.warns.WarnOrDebug(log, "auth_unavailable", "wsgateway: token refused", args...)
		return
	}
	log.Debug("wsgateway: token refused", args...)
}

func (g *Gateway) reject(r RejectReason) { g.stats.rejected[r].Add(1) }

// logDisconnect logs an ended connection: slow consumers at Warn, at most
// once a second (Debug otherwise), everything else at Debug.
func (g *Gateway) logDisconnect(log *slog.Logger, req closeRequest) {
	args := []any{"reason", string(req.reason), "code", int(req.code)}
	if req.reason == DisconnectSlow {
		g.warns.WarnOrDebug(log, "slow", "wsgateway: disconnected", args...)
		return
	}
	log.Debug("wsgateway: disconnected", args...)
}
