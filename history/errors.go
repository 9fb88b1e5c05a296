package history

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/message"
)

// ErrUnavailable matches (errors.Is) every error caused by Redis failing or
// being unreachable. Invalid entries match message.ErrInvalid instead.
var ErrUnavailable = errors.New("history: redis unavailable")

// ErrCategoryRefused matches (errors.Is) the error of a RetractUnless whose
// message is of the category it refuses: nothing changed.
var ErrCategoryRefused = errors.New("history: the message's category is refused here")

// ErrIdempotencyConflict matches (errors.Is) the error of an
// AppendPublishOnce whose idempotency key was used within the
// IdempotencyWindow for a message with another fingerprint: the caller
// reused a key for a different message. Nothing was stored. Packages that
// do not import history can recognise it by its method
// IdempotencyConflict() bool (errors.As with an interface).
var ErrIdempotencyConflict error = conflictError{}

// conflictError is the type of ErrIdempotencyConflict.
type conflictError struct{}

func (conflictError) Error() string {
	return "history: idempotency key already used for a different message"
}

// IdempotencyConflict reports that the error is ErrIdempotencyConflict.
func (conflictError) IdempotencyConflict() bool { return true }

// unavailable wraps a Redis error so that it matches both ErrUnavailable and
// err. When ctx is done the caller gave up, so the context's error is
// returned instead of blaming Redis.
func unavailable(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("history: %s: %w", op, ctxErr)
	}
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, op, err)
}

// BatchError is the error of an AppendBatch in which some entries failed.
type BatchError struct {
	// Errs[i] is the error of entries[i], nil for entries that succeeded.
	Errs []error
}

// Error summarises the failures.
func (e *BatchError) Error() string {
	var first error
	n := 0
	for _, err := range e.Errs {
		if err != nil {
			if first == nil {
				first = err
			}
			n++
		}
	}
	return fmt.Sprintf("history: append batch: %d of %d entries failed, first: %v", n, len(e.Errs), first)
}

// Unwrap returns the entries' errors, so that errors.Is sees ErrUnavailable
// or message.ErrInvalid.
func (e *BatchError) Unwrap() []error {
	var out []error
	for _, err := range e.Errs {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// EntryError returns the error of entries[i] of an AppendBatch that
// returned err: nil when it succeeded, the entry's own error from a
// *BatchError, or err itself when it concerns the whole batch.
func EntryError(err error, i int) error {
	if err == nil {
		return nil
	}
	var be *BatchError
	if errors.As(err, &be) {
		return be.Errs[i]
	}
	return err
}

// IsPermanent reports whether retrying an append that failed with err cannot
// help: an invalid entry (message.ErrInvalid), or a Redis error reply that
// will repeat, WRONGTYPE (something else overwrote a list or seen key) or an
// ERR raised by the script itself. Errors keep their code when raised inside
// the script ("NOREPLICAS ... script: ..."), so connection errors, READONLY
// during a failover, OOM, NOREPLICAS, LOADING and the like are retryable.
func IsPermanent(err error) bool {
	if errors.Is(err, message.ErrInvalid) {
		return true
	}
	var rerr redis.Error
	if !errors.As(err, &rerr) {
		return false
	}
	code, rest, _ := strings.Cut(rerr.Error(), " ")
	return code == "WRONGTYPE" || (code == "ERR" && strings.Contains(rest, "script"))
}
