package protocol

import "encoding/json"

// SubProtocol is the websocket subprotocol PyAMS's browser client offers
// before its token: new WebSocket(url, ["accessToken", token]). The gateway
// selects it when offered.
const SubProtocol = "accessToken"

// Keep-alive texts: a client sends Ping as a text frame, the gateway answers
// Pong. They are the only frames that are not JSON.
const (
	Ping = "PING"
	Pong = "PONG"
)

// Actions and statuses of the control frames the gateway sends.
const (
	// ActionLogout with StatusForbidden: the token was refused (PyAMS's
	// client refreshes its token and reconnects). Close 4001 follows.
	ActionLogout    = "logout"
	StatusForbidden = "FORBIDDEN"
	// ActionGap with StatusWarning: the since id of a catch-up is no longer
	// kept (or was malformed: Since is then empty); everything still kept
	// follows, and the client should reload its list over REST.
	ActionGap     = "gap"
	StatusWarning = "warning"
	// ActionNotify is PyAMS's action of a notification.
	ActionNotify = "notify"
)

// LogoutFrame is the logout control frame. Shared; never modify it.
var LogoutFrame = []byte(`{"action":"logout","status":"FORBIDDEN"}`)

// PongFrame is the answer to Ping. Shared; never modify it.
var PongFrame = []byte(Pong)

// GapFrame returns {"action":"gap","status":"warning","since":"<since>"},
// with since JSON-escaped.
func GapFrame(since string) []byte {
	q, _ := json.Marshal(since) // a string always marshals
	const prefix = `{"action":"gap","status":"warning","since":`
	b := make([]byte, 0, len(prefix)+len(q)+1)
	b = append(b, prefix...)
	b = append(b, q...)
	return append(b, '}')
}
