package client

import (
	"errors"
)

var (
	// ErrTokenRefused: the gateway refused the token (the logout frame or
	// close 4001). The next Token call sees Refresh(ctx) true.
	ErrTokenRefused = errors.New("client: token refused")
	// ErrRevoked: an administrator disconnected the principal (close 4003);
	// only a token issued after the revocation is accepted.
	ErrRevoked = errors.New("client: token revoked")
	// ErrPongTimeout: a PING stayed unanswered for Config.PongTimeout.
	ErrPongTimeout = errors.New("client: no PONG")
)
