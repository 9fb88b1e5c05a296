package wsclient

import (
	"errors"

	"github.com/coder/websocket"
)

// Close codes of notifyd's gateway that the client treats specially (see the
// package documentation for the whole table).
const (
	CloseSlowConsumer   websocket.StatusCode = 4000
	CloseUnauthorized   websocket.StatusCode = 4001
	CloseRevoked        websocket.StatusCode = 4003
	CloseServiceRestart websocket.StatusCode = 1012
	CloseTryAgainLater  websocket.StatusCode = 1013
)

var (
	// ErrTokenRefused: the gateway refused the token (the logout frame or
	// close 4001). The next Token call sees Refresh(ctx) true.
	ErrTokenRefused = errors.New("wsclient: token refused")
	// ErrRevoked: an administrator disconnected the principal (close 4003);
	// only a token issued after the revocation is accepted.
	ErrRevoked = errors.New("wsclient: token revoked")
	// ErrPongTimeout: a PING stayed unanswered for Config.PongTimeout.
	ErrPongTimeout = errors.New("wsclient: no PONG")
)
