package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/go-chi/chi/v5/middleware"
)

// recoverer turns a handler panic into a logged 500 JSON response. It does
// not wrap the ResponseWriter, so websocket upgrades (which hijack it) are
// left alone; when an upgrade request panics, the connection may already be
// hijacked, so nothing is written and http.ErrAbortHandler lets net/http drop
// the connection if it still owns it. http.ErrAbortHandler itself is
// re-raised untouched.
func (s *server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			rec := recover()
			if rec == nil {
				return
			}
			if rec == http.ErrAbortHandler {
				panic(rec)
			}
			s.log.LogAttrs(r.Context(), slog.LevelError, "api: handler panicked",
				slog.String("request_id", middleware.GetReqID(r.Context())),
				slog.String("method", r.Method),
				slog.String("path", loggedPath(r)),
				slog.String("panic", fmt.Sprint(rec)),
				slog.String("stack", string(debug.Stack())))
			if isUpgrade(r) {
				panic(http.ErrAbortHandler)
			}
			s.fail(w, r, errInternal)
		}()
		next.ServeHTTP(w, r)
	})
}

// isUpgrade reports whether r asks for a protocol upgrade (Connection:
// upgrade, as a token of a possibly comma-separated list).
func isUpgrade(r *http.Request) bool {
	for _, v := range r.Header.Values("Connection") {
		for tok := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "upgrade") {
				return true
			}
		}
	}
	return false
}
