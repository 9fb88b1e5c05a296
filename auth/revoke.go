package auth

import (
	"context"
	"errors"
	"fmt"
	"time"
)

var (
	// ErrRevoked: the token was issued before its principal was disconnected
	// by an administrator (POST /api/admin/disconnect).
	ErrRevoked = errors.New("auth: token revoked")
	// ErrUnavailable: the revocation list could not be read, so the token
	// can be neither accepted nor refused. Callers answer "try again later".
	ErrUnavailable = errors.New("auth: revocation list unavailable")
)

// RevocationStore says when a principal was last revoked.
type RevocationStore interface {
	// RevokedAt returns the moment principal was revoked and true, or
	// false when it never was (or the revocation has expired).
	RevokedAt(ctx context.Context, principal string) (time.Time, bool, error)
}

// Revocable verifies tokens with a Verifier and then refuses those that
// Identity.RevokedBy says the principal's revocation covers: every token
// issued (by its iat claim) up to the revocation time plus the Verifier's
// leeway, which includes the tokens whose iat was ahead of the clock, within
// the leeway, when the revocation happened; a token without iat is refused
// once its principal has been revoked. When the store fails, Verify fails
// closed with ErrUnavailable.
type Revocable struct {
	Verifier *Verifier
	Store    RevocationStore // nil: no revocation
}

// Verify checks the token, then the revocation list.
func (r Revocable) Verify(ctx context.Context, token string) (Identity, error) {
	id, err := r.Verifier.Verify(ctx, token)
	if err != nil || r.Store == nil {
		return id, err
	}
	at, revoked, err := r.Store.RevokedAt(ctx, id.Principal)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if revoked && id.RevokedBy(at) {
		return Identity{}, fmt.Errorf("%w: %s revoked at %s", ErrRevoked, id.Principal, at.UTC().Format(time.RFC3339))
	}
	return id, nil
}
