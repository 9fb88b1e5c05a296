package api

import (
	"net/http"

	"github.com/go-chi/chi/v5/middleware"
)

// maxRequestIDBytes is the longest X-Request-Id taken from a client.
const maxRequestIDBytes = 64

// requestID gives every request an id (middleware.GetReqID reads it), as
// chi's middleware.RequestID does, but takes the client's X-Request-Id (a
// proxy's, typically) only when it is a short token of [0-9A-Za-z._:-]:
// anything else is a client writing what it likes into our logs, and is
// replaced by a generated id.
func requestID(next http.Handler) http.Handler {
	ids := middleware.RequestID(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v, ok := r.Header[middleware.RequestIDHeader]; ok && (len(v) != 1 || !validRequestID(v[0])) {
			r.Header.Del(middleware.RequestIDHeader) // middleware.RequestID then generates one
		}
		ids.ServeHTTP(w, r)
	})
}

// validRequestID reports whether id is 1 to maxRequestIDBytes bytes of
// [0-9A-Za-z._:-].
func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > maxRequestIDBytes {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z',
			c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}
