package space

import (
	"context"
	"errors"
	"fmt"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/message"
)

// Sentinel errors; test them with errors.Is. Every error the Service
// returns matches exactly one of them (or the caller's context error when
// it ended first), wrapped with the operation and the field or reason.
var (
	// ErrNotFound: an unknown space or message, or a space the caller is
	// not a member of (the two are never told apart).
	ErrNotFound = errors.New("space: not found")
	// ErrForbidden: the caller is a member but lacks the right (not a
	// moderator, not the sender, a direct space, a guest).
	ErrForbidden = errors.New("space: forbidden")
	// ErrInvalid: an argument is malformed or out of bounds.
	ErrInvalid = errors.New("space: invalid")
	// ErrRateLimited: the caller sends faster than Config.SendRate allows.
	ErrRateLimited = errors.New("space: rate limited")
	// ErrUnavailable: Redis (or the history, or the publisher) failed.
	ErrUnavailable = errors.New("space: unavailable")
	// ErrNotConfigured: Guest was called without Config.Mint.
	ErrNotConfigured = errors.New("space: not configured")
)

// invalid returns an ErrInvalid naming op and field.
func invalid(op, field, format string, args ...any) error {
	return fmt.Errorf("space: %s: %w: %s %s", op, ErrInvalid, field, fmt.Sprintf(format, args...))
}

// failure wraps a sentinel with op and a reason.
func failure(op string, sentinel error, reason string) error {
	return fmt.Errorf("space: %s: %w: %s", op, sentinel, reason)
}

// unavailable wraps a Redis failure. When ctx ended first, the error matches
// ctx's error only.
func unavailable(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("space: %s: %w", op, ctx.Err())
	}
	return fmt.Errorf("space: %s: %w: %v", op, ErrUnavailable, err)
}

// historyErr maps an error of the History or the Publisher.
func historyErr(ctx context.Context, op string, err error) error {
	switch {
	case errors.Is(err, history.ErrNotFound):
		return fmt.Errorf("space: %s: %w: message", op, ErrNotFound)
	case errors.Is(err, message.ErrInvalid), errors.Is(err, message.ErrTooLarge):
		return fmt.Errorf("space: %s: %w: %v", op, ErrInvalid, err)
	}
	return unavailable(ctx, op, err)
}

// scriptErr maps the status word a script answers instead of "ok".
func scriptErr(op, status, detail string) error {
	switch status {
	case "nf":
		return failure(op, ErrNotFound, "space")
	case "nfm":
		return failure(op, ErrNotFound, "message")
	case "nfp":
		return failure(op, ErrNotFound, "member "+detail)
	case "forbidden":
		return failure(op, ErrForbidden, "moderators only")
	case "direct":
		return failure(op, ErrForbidden, "a direct space keeps its two members and its title")
	case "full":
		return invalid(op, "members", "would exceed %s per space", detail)
	case "toomany":
		return invalid(op, "members", "%s is already in too many spaces", detail)
	case "assignee":
		return invalid(op, "task.assignee", "must be a member of the space")
	case "thread":
		return invalid(op, "thread", "must be a top-level message of the space")
	case "emojis":
		return invalid(op, "emoji", "too many different emojis on this message")
	case "self":
		return invalid(op, "moderator", "a moderator cannot demote itself (leave instead)")
	case "exists":
		return invalid(op, "id", "already exists")
	case "conflict":
		return invalid(op, "key", "was used for a different message")
	}
	return fmt.Errorf("space: %s: %w: unexpected script status %q", op, ErrUnavailable, status)
}
