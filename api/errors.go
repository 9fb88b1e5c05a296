package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/site"
)

// apiError is an entry of the catalogue below: what a client is told. code
// numbers the entry (HTTP status × 100 + n) and is logged as "code"; cause is
// the internal error behind it, logged and never sent.
type apiError struct {
	code       int
	status     int
	message    string
	field      string // sent as "field" when set
	retryAfter string // sent as the Retry-After header when set
	quiet      bool   // an expected condition: logged at Debug whatever the status
	cause      error
}

func (e *apiError) Error() string {
	if e.cause == nil {
		return fmt.Sprintf("api: %d %s", e.code, e.message)
	}
	return fmt.Sprintf("api: %d %s: %v", e.code, e.message, e.cause)
}

func (e *apiError) Unwrap() error { return e.cause }

// with returns a copy of e caused by err.
func (e *apiError) with(err error) *apiError {
	c := *e
	c.cause = err
	return &c
}

// The catalogue of errors the API sends.
var (
	errNoSite              = &apiError{code: 40001, status: http.StatusBadRequest, message: "no site: send an Origin header or a host parameter"}
	errBadLimit            = &apiError{code: 40002, status: http.StatusBadRequest, message: "invalid limit"}
	errBadSince            = &apiError{code: 40003, status: http.StatusBadRequest, message: "invalid since"}
	errMalformedBody       = &apiError{code: 40004, status: http.StatusBadRequest, message: "request body is not a JSON object"}
	errInvalidMessage      = &apiError{code: 40005, status: http.StatusBadRequest, message: "invalid message"}
	errUnreadableBody      = &apiError{code: 40006, status: http.StatusBadRequest, message: "could not read request body"}
	errUnknownField        = &apiError{code: 40007, status: http.StatusBadRequest, message: "unknown field"}
	errNoPrincipal         = &apiError{code: 40008, status: http.StatusBadRequest, message: `field "principal" is required`, field: "principal"}
	errBadPrincipal        = &apiError{code: 40009, status: http.StatusBadRequest, message: fmt.Sprintf(`field "principal" must be a string of at most %d bytes without control characters`, MaxPrincipalBytes), field: "principal"}
	errBadSite             = &apiError{code: 40010, status: http.StatusBadRequest, message: "invalid site: longer than an origin can be"}
	errBadIdempotencyKey   = &apiError{code: 40011, status: http.StatusBadRequest, message: fmt.Sprintf("invalid Idempotency-Key: one header of 1 to %d printable ASCII characters", MaxIdempotencyKeyBytes)}
	errBadCursor           = &apiError{code: 40012, status: http.StatusBadRequest, message: "invalid before or after: one id, not both"}
	errBadUnread           = &apiError{code: 40013, status: http.StatusBadRequest, message: "invalid unread: true or false"}
	errBadCategory         = &apiError{code: 40014, status: http.StatusBadRequest, message: fmt.Sprintf("invalid category: at most %d bytes without control characters", MaxCategoryBytes)}
	errBadIDs              = &apiError{code: 40015, status: http.StatusBadRequest, message: `field "ids" must be a non-empty list of ids`, field: "ids"} // see badIDs
	errBadReadRequest      = &apiError{code: 40016, status: http.StatusBadRequest, message: `send either "ids" or "all":true`}
	errBadUntil            = &apiError{code: 40017, status: http.StatusBadRequest, message: `field "until" must be an id`, field: "until"}
	errBadMuted            = &apiError{code: 40018, status: http.StatusBadRequest, message: fmt.Sprintf(`field "muted" must be a list of at most %d categories (exact, or a prefix followed by ".*")`, MaxMutedCategories), field: "muted"}
	errFixedField          = &apiError{code: 40019, status: http.StatusBadRequest, message: "field cannot be changed"} // see fixedField
	errSiteMismatch        = &apiError{code: 40020, status: http.StatusBadRequest, message: `the body's "host" and the host parameter differ`, field: "host"}
	errEmptyPatch          = &apiError{code: 40021, status: http.StatusBadRequest, message: "nothing to change"}
	errAuthRequired        = &apiError{code: 40101, status: http.StatusUnauthorized, message: "authentication required"}
	errNotPublisher        = &apiError{code: 40301, status: http.StatusForbidden, message: "a publisher token is required"}
	errOriginForbidden     = &apiError{code: 40302, status: http.StatusForbidden, message: "origin not allowed"}
	errNotFound            = &apiError{code: 40401, status: http.StatusNotFound, message: "not found"}
	errMethodNotAllowed    = &apiError{code: 40501, status: http.StatusMethodNotAllowed, message: "method not allowed"}
	errBodyTooLarge        = &apiError{code: 41301, status: http.StatusRequestEntityTooLarge, message: "request body too large"}
	errMessageTooLarge     = &apiError{code: 41302, status: http.StatusRequestEntityTooLarge, message: "message too large"}
	errIdempotencyConflict = &apiError{code: 42201, status: http.StatusUnprocessableEntity, message: "Idempotency-Key already used for a different message"}
	errRateLimited         = &apiError{code: 42901, status: http.StatusTooManyRequests, message: "rate limit exceeded", retryAfter: "1"} // see rateLimited
	errInboxNotFound       = &apiError{code: 40402, status: http.StatusNotFound, message: "no such message"}
	errInternal            = &apiError{code: 50001, status: http.StatusInternalServerError, message: "internal error"}
	errUnavailable         = &apiError{code: 50301, status: http.StatusServiceUnavailable, message: "service unavailable"}
	errNotReady            = &apiError{code: 50302, status: http.StatusServiceUnavailable, message: "not ready", quiet: true}
)

// toAPIError maps any error to its catalogue entry. Errors that are not
// known are internal (500).
func toAPIError(err error) *apiError {
	var ae *apiError
	var fe *message.FieldError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &fe):
		// The FieldError text names the field and the reason; nothing internal.
		e := errInvalidMessage.with(err)
		e.message, e.field = fe.Error(), fe.Field
		return e
	case errors.Is(err, message.ErrInvalid):
		return errInvalidMessage.with(err)
	case errors.Is(err, message.ErrMalformed):
		return errMalformedBody.with(err)
	case errors.Is(err, message.ErrTooLarge):
		return errMessageTooLarge.with(err)
	case errors.As(err, &mbe):
		return errBodyTooLarge.with(err)
	case tokenRefused(err):
		return errAuthRequired.with(err)
	case errors.Is(err, auth.ErrUnavailable):
		return errUnavailable.with(err)
	case errors.Is(err, site.ErrOriginNotAllowed):
		return errOriginForbidden.with(err)
	}
	return errInternal.with(err)
}

// authFailure maps an Authenticator error: a refused token is 401, anything
// else (auth.ErrUnavailable included) means the authenticator could not
// decide (503).
func authFailure(err error) *apiError {
	if tokenRefused(err) {
		return errAuthRequired.with(err)
	}
	return errUnavailable.with(err)
}

// tokenRefused reports whether err is auth's verdict on the token itself:
// missing, invalid, expired or revoked.
func tokenRefused(err error) bool {
	return errors.Is(err, auth.ErrNoToken) || errors.Is(err, auth.ErrInvalidToken) ||
		errors.Is(err, auth.ErrExpired) || errors.Is(err, auth.ErrRevoked)
}

// publishFailure maps a Publisher error: the message's own faults keep their
// meaning (400, 413), an Idempotency-Key reused for another message is 422,
// everything else is the service being unavailable.
func publishFailure(err error) error {
	var conflict idempotencyConflict
	switch {
	case errors.Is(err, message.ErrInvalid) || errors.Is(err, message.ErrTooLarge):
		return err
	case errors.As(err, &conflict) && conflict.IdempotencyConflict():
		return errIdempotencyConflict.with(err)
	}
	return errUnavailable.with(err)
}

// storeFailure maps an Inbox or Editor error: history.ErrNotFound is 404
// (an unknown id and an id the caller may not see alike), the catalogue's
// own entries and a message's faults (an Update's patch) keep their
// meaning, everything else is the service being unavailable.
func storeFailure(err error) error {
	var ae *apiError
	switch {
	case errors.Is(err, history.ErrNotFound):
		return errInboxNotFound.with(err)
	case errors.As(err, &ae):
		return ae.with(err)
	case errors.Is(err, message.ErrInvalid) || errors.Is(err, message.ErrTooLarge):
		return err
	}
	return errUnavailable.with(err)
}

// badIDs is errBadIDs naming its bound.
func badIDs(max int) *apiError {
	e := errBadIDs.with(nil)
	e.message = fmt.Sprintf(`field "ids" must be a list of 1 to %d ids`, max)
	return e
}

// fixedField is errFixedField naming the field.
func fixedField(name string) *apiError {
	e := errFixedField.with(nil)
	e.message, e.field = fmt.Sprintf("field %q cannot be changed", name), name
	return e
}

// idempotencyConflict is the behaviour of the Publisher's error for an
// idempotency key reused for another message (pubsub.ErrIdempotencyConflict),
// recognised without importing the package that defines it.
type idempotencyConflict interface{ IdempotencyConflict() bool }

// errorBody is the JSON of every error response.
type errorBody struct {
	Status  string `json:"status"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// fail is the one place errors become responses: it logs the internal detail
// with the request id and sends the catalogue entry's status and message.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := toAPIError(err)
	level := slog.LevelDebug
	if e.status >= http.StatusInternalServerError && !e.quiet {
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("request_id", middleware.GetReqID(r.Context())),
		slog.String("method", r.Method),
		slog.String("path", loggedPath(r)),
		slog.Int("status", e.status),
		slog.Int("code", e.code),
	}
	if e.cause != nil {
		attrs = append(attrs, slog.String("err", e.cause.Error()))
	}
	s.log.LogAttrs(r.Context(), level, "api: request failed", attrs...)
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", challenge(e.cause))
	}
	if e.retryAfter != "" {
		w.Header().Set("Retry-After", e.retryAfter)
	}
	writeJSON(w, e.status, errorBody{Status: "error", Message: e.message, Field: e.field})
}

// challenge is the WWW-Authenticate value of a 401 (RFC 6750 §3): a bare
// "Bearer" when no token was sent, with error="invalid_token" otherwise.
func challenge(cause error) string {
	if cause == nil || errors.Is(cause, auth.ErrNoToken) {
		return "Bearer"
	}
	return `Bearer error="invalid_token"`
}

// maxLoggedPathBytes is how much of a request path a log line keeps.
const maxLoggedPathBytes = 256

// loggedPath is r's path as logs show it: clipped to maxLoggedPathBytes, as
// a client may send a path as long as the header limit allows.
func loggedPath(r *http.Request) string {
	p := r.URL.Path
	if len(p) <= maxLoggedPathBytes {
		return p
	}
	return strings.ToValidUTF8(p[:maxLoggedPathBytes], "") + "…"
}
