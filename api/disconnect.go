package api

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"time"
	"unicode"

	"github.com/go-chi/chi/v5/middleware"
)

// maxDisconnectBody bounds the body of POST /api/admin/disconnect: room for
// a MaxPrincipalBytes principal even with every byte escaped as \uXXXX.
const maxDisconnectBody = 4 << 10

// disconnectResponse answers a successful POST /api/admin/disconnect.
type disconnectResponse struct {
	Status    string `json:"status"`
	Principal string `json:"principal"`
	RevokedAt string `json:"revoked_at"`
}

// disconnect answers POST /api/admin/disconnect {"principal":"<id>"}: the
// Revoker refuses every token issued to the principal until now and closes
// its websockets on every gateway.
func (s *server) disconnect(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r, maxDisconnectBody)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	principal, err := decodeDisconnect(body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	at, err := s.cfg.Revoker.Revoke(r.Context(), principal)
	if err != nil {
		s.fail(w, r, errUnavailable.with(err))
		return
	}
	revokedAt := at.UTC().Format(time.RFC3339Nano)
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "api: principal disconnected",
		slog.String("request_id", middleware.GetReqID(r.Context())),
		slog.String("principal", principal),
		slog.String("revoked_at", revokedAt))
	writeJSON(w, http.StatusOK, disconnectResponse{Status: "success", Principal: principal, RevokedAt: revokedAt})
}

// decodeDisconnect reads {"principal":"<id>"} strictly: a JSON object whose
// only member is principal, a non-empty string of at most MaxPrincipalBytes
// without control characters. Errors are catalogue entries.
func decodeDisconnect(body []byte) (string, error) {
	members, err := decodeMembers(body, "principal")
	if err != nil {
		return "", err
	}
	raw, ok := members["principal"]
	if !ok {
		return "", errNoPrincipal
	}
	var principal *string
	if err := json.Unmarshal(raw, &principal); err != nil {
		return "", errBadPrincipal.with(err)
	}
	switch {
	case principal == nil || *principal == "":
		return "", errNoPrincipal
	case !validPrincipal(*principal):
		return "", errBadPrincipal
	}
	return *principal, nil
}

// validPrincipal reports whether p is at most MaxPrincipalBytes long and
// has no control character. JSON decoding already made it valid UTF-8.
func validPrincipal(p string) bool {
	if len(p) > MaxPrincipalBytes {
		return false
	}
	for _, c := range p {
		if unicode.IsControl(c) {
			return false
		}
	}
	return true
}
