package wsgateway

import "github.com/coder/websocket"

// Close codes the gateway sends. They are websocket.StatusCode values so that
// Go clients can compare them with websocket.CloseStatus directly.
const (
	// CloseGoingAway: the gateway is shutting down. Reconnect with backoff,
	// preferably to another gateway.
	CloseGoingAway websocket.StatusCode = websocket.StatusGoingAway
	// CloseUnsupportedData: the client sent a binary frame. Send text only.
	CloseUnsupportedData websocket.StatusCode = websocket.StatusUnsupportedData
	// CloseTooBig: an inbound message exceeded Config.ReadLimit (the
	// websocket library sends it when the read limit is hit). Send smaller
	// messages.
	CloseTooBig websocket.StatusCode = websocket.StatusMessageTooBig
	// CloseTryAgainLater: the token could not be checked (the revocation
	// list is unavailable). The token is fine: reconnect with backoff and the
	// same token; do not log out.
	CloseTryAgainLater websocket.StatusCode = websocket.StatusTryAgainLater
	// CloseSlowConsumer: the client did not keep up and its queue
	// overflowed; messages were lost. Reconnect with ?since=<id of the last
	// message received> to catch up (or read the REST history with since).
	CloseSlowConsumer websocket.StatusCode = 4000
	// CloseUnauthorized: the token is missing, invalid, expired or revoked.
	// It follows the frame {"action":"logout","status":"FORBIDDEN"}. Refresh
	// the token and reconnect.
	CloseUnauthorized websocket.StatusCode = 4001
	// CloseRevoked: an administrator disconnected this principal; the same
	// token will be refused; get a new token.
	CloseRevoked websocket.StatusCode = 4003
)

// Close reasons sent with the codes above. A reason is for humans; clients
// act on the code.
const (
	reasonShutdown     = "server shutting down"
	reasonBinary       = "binary frames are not supported"
	reasonTooBig       = "message too big"
	reasonSlow         = "slow consumer"
	reasonExpired      = "token expired"
	reasonUnauthorized = "unauthorized"
	reasonRevoked      = "token revoked"
	reasonUnavailable  = "try again later"
	reasonDisconnected = "disconnected by an administrator"
)

// Fixed frames. They are shared by every connection and never modified. The
// gap frame, which carries an id, is built by gapFrame.
var (
	// logoutFrame is what PyAMS's client reacts to by refreshing its token.
	logoutFrame = []byte(`{"action":"logout","status":"FORBIDDEN"}`)
	pingText    = "PING"
	pongFrame   = []byte("PONG")
)
