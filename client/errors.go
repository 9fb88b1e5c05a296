package client

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/notifyd/notifyd/protocol"
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
	// ErrConnectionLost: the connection a command was sent on ended before
	// its answer arrived. The command may or may not have been carried out
	// (a send may have been stored): check before repeating it.
	ErrConnectionLost = errors.New("client: connection lost before the answer")
)

// The errors a command (*CommandError) or a REST call (*APIError) matches
// with errors.Is, by the server's error code or HTTP status.
var (
	// ErrNotFound: no such space or message, or the caller is not a member
	// (code not_found, status 404).
	ErrNotFound = errors.New("client: not found")
	// ErrForbidden: a member without the right, or an expired token (code
	// forbidden, status 403).
	ErrForbidden = errors.New("client: forbidden")
	// ErrInvalid: the request was malformed or broke a limit (code invalid,
	// status 400).
	ErrInvalid = errors.New("client: invalid request")
	// ErrRateLimited: too many sends or typing events (code rate_limited,
	// status 429). Slow down.
	ErrRateLimited = errors.New("client: rate limited")
	// ErrUnavailable: the server could not reach its storage (code
	// unavailable, status 503). Retry later.
	ErrUnavailable = errors.New("client: service unavailable")
)

// CommandError is the error answer of a socket command: the server's code
// (protocol.CodeNotFound, ...) and message. Match it with errors.Is and
// ErrNotFound, ErrForbidden, ErrInvalid, ErrRateLimited or ErrUnavailable,
// or with errors.As to read the code.
type CommandError struct {
	Action  string // the command: protocol.ActionSend, ...
	Code    string
	Message string
}

func (e *CommandError) Error() string {
	return fmt.Sprintf("client: %s: %s: %s", e.Action, e.Code, e.Message)
}

// Is reports whether target is the sentinel of e's code.
func (e *CommandError) Is(target error) bool {
	return target != nil && target == codeSentinel(e.Code)
}

func codeSentinel(code string) error {
	switch code {
	case protocol.CodeNotFound:
		return ErrNotFound
	case protocol.CodeForbidden:
		return ErrForbidden
	case protocol.CodeInvalid:
		return ErrInvalid
	case protocol.CodeRateLimited:
		return ErrRateLimited
	case protocol.CodeUnavailable:
		return ErrUnavailable
	}
	return nil
}

// APIError is a REST call's failure: the HTTP status and the server's
// {"status":"error","message","field"}. Match it with errors.Is and the
// same sentinels as CommandError, or with errors.As to read the status.
type APIError struct {
	Method, Path string
	Status       int
	Message      string
	Field        string // the request field at fault, when the server names one
}

func (e *APIError) Error() string {
	return fmt.Sprintf("client: %s %s: %d %s", e.Method, e.Path, e.Status, e.Message)
}

// Is reports whether target is the sentinel of e's status.
func (e *APIError) Is(target error) bool {
	if target == nil {
		return false
	}
	switch e.Status {
	case http.StatusNotFound:
		return target == ErrNotFound
	case http.StatusForbidden:
		return target == ErrForbidden
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		return target == ErrInvalid
	case http.StatusTooManyRequests:
		return target == ErrRateLimited
	case http.StatusServiceUnavailable:
		return target == ErrUnavailable
	case http.StatusUnauthorized:
		return target == ErrTokenRefused
	}
	return false
}
