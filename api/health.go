package api

import (
	"io"
	"net/http"
)

type statusResponse struct {
	Status   string   `json:"status"`
	Warnings []string `json:"warnings,omitempty"`
}

// monitorResponse is PyAMS chat-ws's /monitor answer.
type monitorResponse struct {
	Status        string `json:"status"`
	SessionsCount int    `json:"sessions_count"`
	Server        string `json:"server"`
}

// healthz answers 200 while the process serves HTTP.
func (s *server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, statusResponse{Status: "OK"})
}

// readyz answers 200 when Config.Ready accepts, 503 otherwise.
func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Ready != nil {
		if err := s.cfg.Ready(r.Context()); err != nil {
			s.fail(w, r, errNotReady.with(err))
			return
		}
	}
	writeJSON(w, http.StatusOK, statusResponse{Status: "ready", Warnings: s.cfg.Warnings})
}

// monitor answers PyAMS's monitor endpoint with the session count.
func (s *server) monitor(w http.ResponseWriter, _ *http.Request) {
	n := 0
	if s.cfg.Sessions != nil {
		n = s.cfg.Sessions()
	}
	writeJSON(w, http.StatusOK, monitorResponse{Status: "OK", SessionsCount: n, Server: "notifyd/" + s.cfg.Version})
}

// ping answers any method with text/plain PONG, as PyAMS's /chat-ping.
func ping(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = io.WriteString(w, "PONG")
}
