package api

import (
	"net/http"
)

// CORS values sent on /api/* responses.
const (
	corsAllowMethods = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
	corsAllowHeaders = "Authorization, Content-Type, Idempotency-Key, Last-Event-ID, " + HeaderPrincipal + ", " + HeaderTitle
	// corsExposeHeaders are the answer headers a browser script may read.
	corsExposeHeaders = "Idempotent-Replayed, Retry-After"
	corsMaxAge        = "600"
)

// cors admits browser callers whose Origin the site policy allows and
// refuses the others with 403. Allowed cross-origin responses carry
// Access-Control-Allow-Origin (the origin itself, never "*", since
// credentials are allowed) and Access-Control-Allow-Credentials.
func (s *server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Add("Vary", "Origin")
		if err := s.cfg.Sites.Check(r); err != nil {
			s.fail(w, r, err)
			return
		}
		if origin := r.Header.Get("Origin"); origin != "" {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		}
		next.ServeHTTP(w, r)
	})
}

// preflight answers OPTIONS on an API route, behind cors: empty body, as
// PyAMS's cornice services do.
func preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Allow", corsAllowMethods)
	if r.Header.Get("Origin") != "" {
		h.Set("Access-Control-Allow-Methods", corsAllowMethods)
		h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
		h.Set("Access-Control-Max-Age", corsMaxAge)
	}
	w.WriteHeader(http.StatusNoContent)
}
