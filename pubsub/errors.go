package pubsub

import (
	"context"
	"errors"
	"fmt"

	"github.com/notifyd/notifyd/history"
)

// ErrUnavailable matches (errors.Is) every error caused by Redis failing or
// being unreachable: the api package maps it to 503. Validation errors match
// message.ErrInvalid or message.ErrTooLarge instead.
var ErrUnavailable = errors.New("pubsub: redis unavailable")

// ErrIdempotencyConflict matches (errors.Is) the error of a
// Publisher.PublishIdempotent whose key was used within the history's
// IdempotencyWindow for a different message: nothing was stored. It is
// history.ErrIdempotencyConflict, so it also has the method
// IdempotencyConflict() bool for callers that import neither package.
var ErrIdempotencyConflict = history.ErrIdempotencyConflict

// ErrNoHistory is returned by Publisher.PublishIdempotent with a key when
// the Publisher has no history: keys live in the history's Redis.
var ErrNoHistory = errors.New("pubsub: an idempotency key needs a publisher with a history")

// unavailable wraps a Redis error so that it matches both ErrUnavailable and
// err. When ctx is done the caller gave up, so the context's error is
// returned instead of blaming Redis.
func unavailable(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("pubsub: %s: %w", op, ctxErr)
	}
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, op, err)
}

// historyErr returns err, an error of the history store, so that it also
// matches ErrUnavailable when it matches history.ErrUnavailable: callers of
// this package test one sentinel for every Redis failure.
func historyErr(err error) error {
	if errors.Is(err, history.ErrUnavailable) {
		return unavailableErr{err}
	}
	return err
}

// unavailableErr is an error of the history store that matches
// ErrUnavailable too; its text is the store's.
type unavailableErr struct{ error }

func (e unavailableErr) Unwrap() []error { return []error{e.error, ErrUnavailable} }
