package console

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// serve mounts the console at DefaultPrefix, as the daemon does.
func serve(t testing.TB) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	h := Handler(Config{})
	mux.Handle(DefaultPrefix, h)
	mux.Handle(DefaultPrefix+"/", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func do(t testing.TB, method, url string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func TestServesFiles(t *testing.T) {
	t.Parallel()
	srv := serve(t)
	for _, tc := range []struct {
		path, ctype, contains string
	}{
		{"/console/", "text/html; charset=utf-8", `<script type="module" src="app.js">`},
		{"/console/index.html", "text/html; charset=utf-8", "<title>notifyd console</title>"},
		{"/console/app.js", "text/javascript; charset=utf-8", `from "./notifyd.js"`},
		{"/console/notifyd.js", "text/javascript; charset=utf-8", "export class NotifydClient"},
		{"/console/console.css", "text/css; charset=utf-8", ".topbar"},
		{"/console/icon.svg", "image/svg+xml", "<svg"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := do(t, http.MethodGet, srv.URL+tc.path, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if got := resp.Header.Get("Content-Type"); got != tc.ctype {
				t.Errorf("Content-Type %q, want %q", got, tc.ctype)
			}
			if !strings.Contains(body, tc.contains) {
				t.Errorf("body does not contain %q", tc.contains)
			}
			wantSecurityHeaders(t, resp)
		})
	}
}

func wantSecurityHeaders(t *testing.T, resp *http.Response) {
	t.Helper()
	for k, want := range map[string]string{
		"Content-Security-Policy": "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; " +
			"style-src 'self'; script-src 'self'; frame-ancestors 'none'",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

func TestRedirectsPrefix(t *testing.T) {
	t.Parallel()
	resp, _ := do(t, http.MethodGet, serve(t).URL+"/console", nil)
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/console/" {
		t.Errorf("GET /console: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestETag(t *testing.T) {
	t.Parallel()
	srv := serve(t)
	resp, body := do(t, http.MethodGet, srv.URL+"/console/app.js", nil)
	etag := resp.Header.Get("ETag")
	if !regexp.MustCompile(`^"[A-Za-z0-9_-]{16}"$`).MatchString(etag) {
		t.Fatalf("ETag %q", etag)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("Cache-Control %q", cc)
	}
	resp2, body2 := do(t, http.MethodGet, srv.URL+"/console/app.js", map[string]string{"If-None-Match": etag})
	if resp2.StatusCode != http.StatusNotModified || body2 != "" {
		t.Errorf("If-None-Match: %d with %d bytes, want 304 and none", resp2.StatusCode, len(body2))
	}
	wantSecurityHeaders(t, resp2)
	resp3, body3 := do(t, http.MethodGet, srv.URL+"/console/app.js", map[string]string{"If-None-Match": `"other"`})
	if resp3.StatusCode != http.StatusOK || body3 != body {
		t.Errorf("stale If-None-Match: %d", resp3.StatusCode)
	}
	other, _ := do(t, http.MethodGet, srv.URL+"/console/notifyd.js", nil)
	if other.Header.Get("ETag") == etag {
		t.Error("two files share an ETag")
	}
	head, hbody := do(t, http.MethodHead, srv.URL+"/console/app.js", nil)
	if head.StatusCode != http.StatusOK || hbody != "" || head.Header.Get("ETag") != etag {
		t.Errorf("HEAD: %d, %d bytes, ETag %q", head.StatusCode, len(hbody), head.Header.Get("ETag"))
	}
}

func TestNotFoundAndMethods(t *testing.T) {
	t.Parallel()
	srv := serve(t)
	for _, p := range []string{
		"/console/nope.js",
		"/console/static/app.js",
		"/console/../go.mod",
		"/console/%2e%2e/handler.go",
		"/console/..%2fhandler.go",
		"/console/handler.go",
		"/console/doc.go",
		"/console/e2e/package.json",
		"/console//etc/passwd",
		"/console/.",
		"/console/static",
	} {
		// Through a mux, which cleans paths with a redirect first.
		resp, body := do(t, http.MethodGet, srv.URL+p, nil)
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusTemporaryRedirect {
			t.Errorf("GET %s: %d (%d bytes), want 404", p, resp.StatusCode, len(body))
		}
		if strings.Contains(body, "package console") {
			t.Errorf("GET %s served Go source", p)
		}
		// And the raw path straight to the handler.
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.Path = p
		rec := httptest.NewRecorder()
		Handler(Config{}).ServeHTTP(rec, req)
		if rec.Code != http.StatusNotFound {
			t.Errorf("raw GET %s: %d, want 404", p, rec.Code)
		}
	}
	resp, _ := do(t, http.MethodPost, srv.URL+"/console/", nil)
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

// TestHandlerOwnPrefix: full paths are expected; outside the prefix is 404.
func TestHandlerOwnPrefix(t *testing.T) {
	t.Parallel()
	h := Handler(Config{Prefix: "/ops/console/"})
	for path, want := range map[string]int{
		"/ops/console/":       http.StatusOK,
		"/ops/console/app.js": http.StatusOK,
		"/ops/console":        http.StatusMovedPermanently,
		"/console/":           http.StatusNotFound,
		"/ops/consoleapp.js":  http.StatusNotFound,
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != want {
			t.Errorf("GET %s: %d, want %d", path, rec.Code, want)
		}
	}
}

// TestEmbedsOnlyStatic: the binary carries the console's files and nothing
// else (no test, no node_modules).
func TestEmbedsOnlyStatic(t *testing.T) {
	t.Parallel()
	err := fs.WalkDir(static, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !regexp.MustCompile(`^static/[a-z-]+\.(html|js|css|svg)$`).MatchString(p) {
			t.Errorf("embedded %s", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
