package httpguard

import (
	"net/http"
	"time"
)

// Default deadlines of a request (see Deadlines).
const (
	// DefaultReadTimeout bounds the time to read a request's body, from the
	// moment its headers have been read.
	DefaultReadTimeout = 10 * time.Second
	// DefaultWriteTimeout bounds the time to handle a request and write its
	// answer, from the moment its headers have been read.
	DefaultWriteTimeout = 30 * time.Second
)

// Deadlines returns middleware that sets a read deadline of read and a write
// deadline of write on the connection of every request, except those whose
// path is one of streams (websocket or server-sent-event routes, which live
// for hours and keep their own liveness checks). Zero durations mean the
// defaults; a negative one sets no deadline.
//
// http.Server's ReadTimeout and WriteTimeout cannot be used: they would cut
// the long-lived streams. Without a read deadline a client that announces a
// body and never sends it holds its socket for ever: net/http reads (and
// discards) a small unread body before it writes the answer.
func Deadlines(read, write time.Duration, streams ...string) func(http.Handler) http.Handler {
	read = orDefault(read, DefaultReadTimeout)
	write = orDefault(write, DefaultWriteTimeout)
	skip := make(map[string]bool, len(streams))
	for _, p := range streams {
		skip[p] = true
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !skip[r.URL.Path] {
				now := time.Now()
				rc := http.NewResponseController(w)
				// Errors mean the writer cannot take deadlines (a test
				// recorder, HTTP/2 before Go supports it): nothing to set.
				if read > 0 {
					_ = rc.SetReadDeadline(now.Add(read))
				}
				if write > 0 {
					_ = rc.SetWriteDeadline(now.Add(write))
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}
