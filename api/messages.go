package api

import (
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/notifyd/notifyd/message"
)

// publishedResponse answers a successful POST /api/chat/messages.
type publishedResponse struct {
	Status    string `json:"status"`
	ID        string `json:"id"`
	Timestamp string `json:"timestamp"`
}

// postMessage answers POST /api/chat/messages: the body is one message in
// PyAMS JSON; the Publisher fills what is missing, validates, stores and
// publishes it. 202 carries the id and timestamp it was given.
func (s *server) postMessage(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if !errors.As(err, &tooLarge) {
			err = errUnreadableBody.with(err)
		}
		s.fail(w, r, err)
		return
	}
	m, err := message.Decode(body, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.cfg.Publisher.Publish(r.Context(), m); err != nil {
		s.fail(w, r, publishFailure(err))
		return
	}
	s.log.LogAttrs(r.Context(), slog.LevelDebug, "api: message published",
		slog.String("request_id", middleware.GetReqID(r.Context())),
		slog.String("id", m.ID),
		slog.String("host", m.Host),
		slog.String("category", m.Category))
	writeJSON(w, http.StatusAccepted, publishedResponse{Status: "success", ID: m.ID, Timestamp: m.Timestamp})
}
