package api

import (
	"net/http"

	"github.com/notifyd/notifyd/auth"
)

// authorizePublisher requires a publisher token in "Authorization: Bearer":
// none is 401, any other token (a user's JWT included) is 403. A user JWT is
// never trusted to publish, however valid.
func (s *server) authorizePublisher(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := auth.BearerToken(r)
		if token == "" {
			s.fail(w, r, errAuthRequired)
			return
		}
		if !s.cfg.PublisherTokens.Check(token) {
			s.fail(w, r, errNotPublisher)
			return
		}
		next.ServeHTTP(w, r)
	})
}
