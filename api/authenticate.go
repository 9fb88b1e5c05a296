package api

import (
	"context"
	"net/http"

	"github.com/notifyd/notifyd/auth"
)

// identityKey is the context key of the caller's identity.
type identityKey struct{}

// IdentityFrom returns the identity that authenticated the request whose
// context is ctx, and false on routes that do not authenticate users.
func IdentityFrom(ctx context.Context) (auth.Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(auth.Identity)
	return id, ok
}

// authenticate requires a valid user JWT in "Authorization: Bearer" and puts
// its identity in the request context. Unlike PyAMS, anonymous callers get
// 401, not an empty answer.
func (s *server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := auth.BearerToken(r)
		if token == "" {
			s.fail(w, r, errAuthRequired)
			return
		}
		id, err := s.cfg.Auth.Verify(r.Context(), token)
		if err != nil {
			s.fail(w, r, authFailure(err))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, id)))
	})
}
