package api

import (
	"net/http"
	"slices"
	"testing"
)

func TestCORS(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok := mint(t, "users:jdoe", "")
	cases := []struct {
		name    string
		method  string
		path    string
		headers []string
		status  int
		allowed string // expected Access-Control-Allow-Origin
	}{
		{"allowed origin", http.MethodGet, PathContext, []string{"Origin", siteB, "Authorization", "Bearer " + tok}, 200, siteB},
		{"no origin", http.MethodGet, PathContext, []string{"Authorization", "Bearer " + tok}, 200, ""},
		{"same origin", http.MethodGet, PathContext, []string{"Origin", "SAME", "Authorization", "Bearer " + tok}, 200, "SAME"},
		{"disallowed origin", http.MethodGet, PathNotifications, []string{"Origin", siteEvil, "Authorization", "Bearer " + tok}, 403, ""},
		{"disallowed origin publishing", http.MethodPost, PathMessages, []string{"Origin", siteEvil, "Authorization", "Bearer " + publisherToken}, 403, ""},
		{"null origin", http.MethodGet, PathContext, []string{"Origin", "null", "Authorization", "Bearer " + tok}, 403, ""},
		{"preflight", http.MethodOptions, PathMessages, []string{"Origin", siteA, "Access-Control-Request-Method", "POST",
			"Access-Control-Request-Headers", "authorization,content-type"}, 204, siteA},
		{"preflight notifications", http.MethodOptions, PathNotifications, []string{"Origin", siteA, "Access-Control-Request-Method", "GET"}, 204, siteA},
		{"preflight disallowed", http.MethodOptions, PathContext, []string{"Origin", siteEvil, "Access-Control-Request-Method", "GET"}, 403, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			headers := slices.Clone(c.headers)
			for i := range headers {
				if headers[i] == "SAME" {
					headers[i] = f.srv.URL
					c.allowed = f.srv.URL
				}
			}
			r := f.do(t, c.method, c.path, "", headers...)
			if c.status == http.StatusForbidden {
				r.wantError(t, c.status, errOriginForbidden.message)
			}
			r.wantStatus(t, c.status)
			h := r.header
			if got := h.Get("Access-Control-Allow-Origin"); got != c.allowed {
				t.Fatalf("Access-Control-Allow-Origin %q, want %q", got, c.allowed)
			}
			if !slices.Contains(h.Values("Vary"), "Origin") {
				t.Fatalf("Vary %q lacks Origin", h.Values("Vary"))
			}
			if c.allowed != "" && h.Get("Access-Control-Allow-Credentials") != "true" {
				t.Fatalf("Access-Control-Allow-Credentials %q", h.Get("Access-Control-Allow-Credentials"))
			}
			if c.allowed != "" && h.Get("Access-Control-Expose-Headers") != "Idempotent-Replayed, Retry-After" {
				t.Fatalf("Access-Control-Expose-Headers %q", h.Get("Access-Control-Expose-Headers"))
			}
			if c.method == http.MethodOptions && c.status == http.StatusNoContent {
				if h.Get("Access-Control-Allow-Methods") != "GET, POST, PUT, PATCH, DELETE, OPTIONS" ||
					h.Get("Access-Control-Allow-Headers") != "Authorization, Content-Type, Idempotency-Key, Last-Event-ID, X-Notifyd-Principal, X-Notifyd-Title" || len(r.body) != 0 {
					t.Fatalf("preflight headers %v body %q", h, r.body)
				}
			}
		})
	}
}
