package message

import (
	"errors"
	"fmt"
)

// Sentinel errors; test them with errors.Is.
var (
	// ErrMalformed: the input is not a JSON object.
	ErrMalformed = errors.New("message: malformed JSON")
	// ErrTooLarge: the input or the encoded message exceeds the size limit.
	ErrTooLarge = errors.New("message: too large")
	// ErrInvalid: a field has a wrong type or value. The concrete error is a *FieldError.
	ErrInvalid = errors.New("message: invalid")
)

// FieldError says which field is wrong and why. It matches ErrInvalid with errors.Is.
type FieldError struct {
	Field  string // JSON key, e.g. "title" or "source.id"
	Reason string // human-readable, e.g. "is required"
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("message: field %q %s", e.Field, e.Reason)
}

// Is makes errors.Is(err, ErrInvalid) true for every FieldError.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}
