package protocol

import (
	"encoding/json"

	"github.com/coder/websocket"
)

// Close codes of the gateway. They are websocket.StatusCode values so that Go
// clients compare them with websocket.CloseStatus directly.
const (
	// CloseGoingAway: the gateway is shutting down. Reconnect with jittered
	// backoff, preferably to another gateway, with since.
	CloseGoingAway websocket.StatusCode = websocket.StatusGoingAway
	// CloseUnsupportedData: the client sent a binary frame. Send text only.
	CloseUnsupportedData websocket.StatusCode = websocket.StatusUnsupportedData
	// CloseTooBig: an inbound frame exceeded the gateway's read limit. Send
	// smaller frames.
	CloseTooBig websocket.StatusCode = websocket.StatusMessageTooBig
	// CloseServiceRestart: the server is restarting. Reconnect with backoff.
	CloseServiceRestart websocket.StatusCode = websocket.StatusServiceRestart
	// CloseTryAgainLater: the token could not be checked (the revocation list
	// is unavailable). The token is fine: reconnect with backoff and the same
	// token; do not log out.
	CloseTryAgainLater websocket.StatusCode = websocket.StatusTryAgainLater
	// CloseSlowConsumer: the client did not keep up and its queue overflowed;
	// messages were lost. Reconnect with since=<id of the last message
	// received> to catch up.
	CloseSlowConsumer websocket.StatusCode = 4000
	// CloseUnauthorized: the token is missing, invalid, expired or revoked. It
	// follows the logout frame. Refresh the token and reconnect.
	CloseUnauthorized websocket.StatusCode = 4001
	// CloseRevoked: an administrator disconnected this principal; the same
	// token will be refused; get a new token.
	CloseRevoked websocket.StatusCode = 4003
)

// Close reasons sent with the codes above. A reason is for humans; clients
// act on the code.
const (
	ReasonShutdown     = "server shutting down"
	ReasonBinary       = "binary frames are not supported"
	ReasonTooBig       = "message too big"
	ReasonSlow         = "slow consumer"
	ReasonExpired      = "token expired"
	ReasonUnauthorized = "unauthorized"
	ReasonRevoked      = "token revoked"
	ReasonUnavailable  = "try again later"
	ReasonDisconnected = "disconnected by an administrator"
)

// ActionClose is the action of an SSE stream's last event, which carries
// the websocket close code and reason the stream ended with (SSE has no
// close frame). Server to client.
const ActionClose = "close"

// CloseEvent is an SSE stream's last event: {"action":"close","code":<code>}
// with "reason" when there is one.
func CloseEvent(code websocket.StatusCode, reason string) []byte {
	b, _ := json.Marshal(struct {
		Action string `json:"action"`
		Code   int    `json:"code"`
		Reason string `json:"reason,omitempty"`
	}{ActionClose, int(code), reason})
	return b
}
