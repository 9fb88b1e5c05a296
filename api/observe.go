package api

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// observe records, after the handler, every request's route pattern (never
// its raw path: RouteOther when none matched), method, status and duration
// in Config.Recorder, and the outcome of each POST /api/chat/messages. It
// must come first, so that a request the recoverer answers is counted with
// its 500. The websocket route is left alone: its handler lasts as long as
// the connection (wsgateway times its handshakes). Without a Recorder it is
// not installed.
func (s *server) observe(next http.Handler) http.Handler {
	rec := s.cfg.Recorder
	if rec == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == PathWebSocket {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		d := time.Since(start)
		status := ww.Status()
		if status == 0 { // the handler wrote nothing: net/http answers 200
			status = http.StatusOK
		}
		route := RouteOther
		if rctx := chi.RouteContext(r.Context()); rctx != nil && rctx.RoutePattern() != "" {
			route = rctx.RoutePattern()
		}
		method := boundedMethod(r.Method)
		rec.record(route, method, status, d)
		if route == PathMessages && method == http.MethodPost {
			rec.published(publishOutcome(status, ww.Header().Get(HeaderIdempotentReplayed) == "true"))
		}
	})
}

// boundedMethod is m when it is a standard method, MethodOther otherwise: a
// client chooses the method, and a label must not grow with what it sends.
func boundedMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return MethodOther
}
