package api

import (
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/protocol"
)

// Idempotency headers of POST /api/chat/messages.
const (
	// HeaderIdempotencyKey names a publication: retries with the same key
	// (and the same publisher token) get the first answer.
	HeaderIdempotencyKey = "Idempotency-Key"
	// HeaderIdempotentReplayed is "true" on an answer that repeats the
	// first one: nothing was stored or published by this request.
	HeaderIdempotentReplayed = "Idempotent-Replayed"
	// MaxIdempotencyKeyBytes is the longest Idempotency-Key accepted.
	MaxIdempotencyKeyBytes = 255
)

// publishedResponse answers a successful POST /api/chat/messages.
type publishedResponse struct {
	Status    string `json:"status"`
	ID        string `json:"id"`
	Timestamp string `json:"timestamp"`
}

// postMessage answers POST /api/chat/messages: the body is one message in
// PyAMS JSON; the Publisher fills what is missing, validates, stores and
// publishes it. 202 carries the id and timestamp it was given: the first
// ones, with Idempotent-Replayed: true, when the same Idempotency-Key (of
// the same publisher token) or the same id was published before.
func (s *server) postMessage(w http.ResponseWriter, r *http.Request) {
	key, err := idempotencyKey(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	body, err := readBody(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	m, err := message.Decode(body, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if m.Category == protocol.SpaceCategory {
		s.fail(w, r, errSpaceCategory)
		return
	}
	replayed, err := s.cfg.Publisher.PublishIdempotent(r.Context(), key, m)
	if err != nil {
		s.fail(w, r, publishFailure(err))
		return
	}
	s.log.LogAttrs(r.Context(), slog.LevelDebug, "api: message published",
		slog.String("request_id", middleware.GetReqID(r.Context())),
		slog.String("id", m.ID),
		slog.String("host", m.Host),
		slog.String("category", m.Category),
		slog.Bool("replayed", replayed))
	if replayed {
		w.Header().Set(HeaderIdempotentReplayed, "true")
	}
	writeJSON(w, http.StatusAccepted, publishedResponse{Status: "success", ID: m.ID, Timestamp: m.Timestamp})
}

// idempotencyKey returns the request's Idempotency-Key scoped to its
// publisher token (a hash of it, as the rate limit's bucket), so that two
// publishers' keys never collide; "" without the header. A key that is
// empty, longer than MaxIdempotencyKeyBytes, not printable ASCII, or sent
// twice is refused.
func idempotencyKey(r *http.Request) (string, error) {
	values := r.Header.Values(HeaderIdempotencyKey)
	switch {
	case len(values) == 0:
		return "", nil
	case len(values) > 1 || !validIdempotencyKey(values[0]):
		return "", errBadIdempotencyKey
	}
	return publisherKey(r) + ":" + values[0], nil
}

// validIdempotencyKey reports whether k is 1 to MaxIdempotencyKeyBytes
// bytes of printable ASCII (space included), which covers UUIDs, ULIDs and
// the quoted strings of the IETF draft's structured header.
func validIdempotencyKey(k string) bool {
	if k == "" || len(k) > MaxIdempotencyKeyBytes {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return false
		}
	}
	return true
}
