package api

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
	"time"
)

// PathOpenAPI serves the OpenAPI 3.1 document of every route (GET, no
// authentication).
const PathOpenAPI = "/api/openapi.json"

// OpenAPI is the OpenAPI 3.1 document of the routes New serves, written by
// hand in openapi.json. Tests keep it equal to the router (every route
// documented, every documented route served) and validate real responses
// against it.
//
//go:embed openapi.json
var OpenAPI []byte

// openAPIETag is the strong ETag of OpenAPI: it changes with the document.
var openAPIETag = func() string {
	sum := sha256.Sum256(OpenAPI)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}()

// openAPIMaxAge is how long caches may keep the document without asking
// again; the ETag answers later requests with 304.
const openAPIMaxAge = "public, max-age=3600"

// openAPI answers GET /api/openapi.json. The document is public and holds
// nothing per caller, so any origin may read it (without credentials) and
// caches may keep it.
func openAPI(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", openAPIMaxAge)
	h.Set("ETag", openAPIETag)
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("X-Content-Type-Options", "nosniff")
	// ServeContent answers If-None-Match (304) and Range; a zero time
	// sends no Last-Modified.
	http.ServeContent(w, r, "openapi.json", time.Time{}, bytes.NewReader(OpenAPI))
}
