package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/notifyd/notifyd/clients/js"
)

// static holds the console's files. Only this directory is embedded: tests
// and the browser test's node_modules never reach the binary.
//
//go:embed static
var static embed.FS

// clientModule is the name the browser client (clients/js, js.Module) is
// served under, next to the files of static/ that import it.
const clientModule = "notifyd.js"

// DefaultPrefix is where the console is mounted when Config.Prefix is empty.
const DefaultPrefix = "/console"

// ContentSecurityPolicy is sent with every answer: the page may load only its
// own files, connect only to its own origin (and websockets), and be framed by
// nobody.
const ContentSecurityPolicy = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; " +
	"style-src 'self'; script-src 'self'; frame-ancestors 'none'"

// Config configures Handler.
type Config struct {
	// Prefix is the path the console is mounted at, without a trailing
	// slash. Zero: DefaultPrefix ("/console"). The handler expects full
	// request paths (do not strip the prefix): Prefix redirects to
	// Prefix+"/", which serves index.html, and Prefix+"/<file>" serves a
	// file of static/.
	Prefix string
}

// file is one embedded file, read once.
type file struct {
	body  []byte
	ctype string
	etag  string
}

type handler struct {
	// immutable after Handler
	prefix string
	files  map[string]file // by path relative to static/, "index.html" for "/"
}

// Handler returns the console's handler. It serves GET and HEAD only: 405
// otherwise, 404 for any path that is not an embedded file.
func Handler(cfg Config) http.Handler {
	prefix := strings.TrimSuffix(cfg.Prefix, "/")
	if prefix == "" {
		prefix = DefaultPrefix
	}
	h := &handler{prefix: prefix, files: map[string]file{}}
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic("console: " + err.Error()) // the directory is embedded: cannot happen
	}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		h.files[p] = newFile(p, body)
		return nil
	})
	if err != nil {
		panic("console: failed to read the embedded files: " + err.Error())
	}
	h.files[clientModule] = newFile(clientModule, js.Module)
	return h
}

// newFile describes the file served as name with that body.
func newFile(name string, body []byte) file {
	sum := sha256.Sum256(body)
	return file{
		body:  body,
		ctype: contentType(name),
		etag:  `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`,
	}
}

// contentType maps the extensions the console uses; anything else is served
// as bytes (and nosniff keeps the browser from guessing).
func contentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	}
	return "application/octet-stream"
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", ContentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	if p == h.prefix {
		http.Redirect(w, r, h.prefix+"/", http.StatusMovedPermanently)
		return
	}
	name, ok := strings.CutPrefix(p, h.prefix+"/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	if name == "" {
		name = "index.html"
	}
	// Only names of embedded files are looked up: "..", absolute paths and
	// directories are simply not in the map.
	f, ok := h.files[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	hd.Set("Content-Type", f.ctype)
	hd.Set("ETag", f.etag)
	// Revalidate every time: a new binary serves new files at once, and an
	// unchanged file costs a 304.
	hd.Set("Cache-Control", "no-cache")
	// ServeContent answers If-None-Match (304), HEAD and Range.
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.body))
}
