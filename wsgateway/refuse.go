package wsgateway

import (
	"errors"
	"net/http"

	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/protocol"
)

// httpRefusals are the answers to requests refused before the upgrade.
var httpRefusals = map[RejectReason]struct {
	status int
	text   string
}{
	RejectShutdown:       {http.StatusServiceUnavailable, "server shutting down"},
	RejectOrigin:         {http.StatusForbidden, "origin not allowed"},
	RejectNoSite:         {http.StatusBadRequest, "no site: send Origin or ?host="},
	RejectSiteTooLong:    {http.StatusBadRequest, "site too long"},
	RejectRate:           {http.StatusTooManyRequests, "too many new connections from this address"},
	RejectCapacity:       {http.StatusServiceUnavailable, "too many connections on this gateway"},
	RejectPrincipalLimit: {http.StatusTooManyRequests, "too many connections for this principal"},
	RejectDevice:         {http.StatusBadRequest, "invalid device id"},
}

// rejectHTTP counts a request refused before the upgrade and answers it:
// the one place such a refusal gets its status.
func (g *Gateway) rejectHTTP(w http.ResponseWriter, reason RejectReason) {
	g.reject(reason)
	ans := httpRefusals[reason]
	if reason == RejectRate {
		w.Header().Set("Retry-After", "1")
	}
	http.Error(w, ans.text, ans.status)
}

func (g *Gateway) reject(r RejectReason) { g.stats.rejected[r].Add(1) }

// Refusals of an upgraded connection that is never admitted. Their reason
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

// logRefusal logs c's refused token at Debug; an unavailable Authenticator
// is an operational problem, logged at Warn at most once a second.
func (c *conn) logRefusal(reason RejectReason, source string, err error) {
	args := []any{"reason", string(reason), "token_source", source, "err", err}
	if reason == RejectUnavailable {
		c.env.warns.WarnOrDebug(c.logger(), "auth_unavailable", "wsgateway: token refused", args...)
		return
	}
	c.debug("wsgateway: token refused", args...)
}
