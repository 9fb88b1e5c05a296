package api

import (
	"encoding/json"
	"net/http"
)

// writeJSON sends v as JSON with status. Responses are per caller and never
// cached.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only the package's own response types reach here; they always marshal.
		body = []byte(`{"status":"error","message":"internal error"}`)
		status = http.StatusInternalServerError
	}
	writeRawJSON(w, status, append(body, '\n'))
}

// writeRawJSON sends body, which is already JSON, with status.
func writeRawJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client went away; nothing to do
}
