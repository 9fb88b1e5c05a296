package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/message"
)

const validBody = `{"host": "https://a.example", "action": "notify", "category": "user.login",
 "title": "User login", "message": "jdoe logged in...", "image": null,
 "source": {"id": "users:jdoe", "title": "John Doe"}, "url": null, "modal": false, "extra": [1, 2]}`

func TestPublishAuthorization(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cases := []struct {
		name    string
		headers []string
		status  int
		msg     string
	}{
		{"no token", nil, http.StatusUnauthorized, "authentication required"},
		{"basic scheme", []string{"Authorization", "Basic dXNlcjpwYXNz"}, http.StatusUnauthorized, "authentication required"},
		{"user JWT", bearer(mint(t, "system:admin", "Admin", "system.Manager")), http.StatusForbidden, errNotPublisher.message},
		{"unknown token", bearer("publisher-token-9876543210"), http.StatusForbidden, errNotPublisher.message},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f.do(t, http.MethodPost, PathMessages, validBody, c.headers...).wantError(t, c.status, c.msg)
		})
	}
	if got := f.pub.published(); len(got) != 0 {
		t.Fatalf("published %d messages without a publisher token", len(got))
	}
}

func TestPublishAccepted(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.do(t, http.MethodPost, PathMessages, validBody, bearer(publisherToken)...).wantStatus(t, http.StatusAccepted)
	var got publishedResponse
	decodeJSON(t, r.body, &got)
	pub := f.pub.published()
	if len(pub) != 1 {
		t.Fatalf("publisher got %d messages, want 1", len(pub))
	}
	m := pub[0]
	if got.Status != "success" || got.ID == "" || got.ID != m.ID || got.Timestamp != m.Timestamp {
		t.Fatalf("response %+v, published id %q ts %q", got, m.ID, m.Timestamp)
	}
	if m.Host != siteA || m.Title != "User login" || m.Body != "jdoe logged in..." || m.SourceID() != "users:jdoe" ||
		string(m.Extra["extra"]) != "[1, 2]" {
		t.Fatalf("published %+v", m)
	}
}

func TestPublishRejected(t *testing.T) {
	t.Parallel()
	missingTitle := strings.Replace(validBody, `"title": "User login",`, "", 1)
	numericTitle := strings.Replace(validBody, `"title": "User login"`, `"title": 42`, 1)
	twoLines := strings.Replace(validBody, `"User login"`, `"User\nlogin"`, 1)
	spaceCategory := strings.Replace(validBody, `"category": "user.login"`, `"category": "space"`, 1)
	padded := strings.Replace(validBody, `"message": "jdoe logged in..."`,
		`"message": "`+strings.Repeat("x", message.DefaultMaxSize)+`"`, 1)
	cases := []struct {
		name   string
		body   string
		status int
		msg    string
		field  string
	}{
		{"not JSON", `{not json`, http.StatusBadRequest, errMalformedBody.message, ""},
		{"JSON array", `[1, 2]`, http.StatusBadRequest, errMalformedBody.message, ""},
		{"empty", ``, http.StatusBadRequest, errMalformedBody.message, ""},
		{"missing title", missingTitle, http.StatusBadRequest, `message: field "title" is required`, "title"},
		{"numeric title", numericTitle, http.StatusBadRequest, `message: field "title" must be a string`, "title"},
		{"two-line title", twoLines, http.StatusBadRequest, `message: field "title" must be a single line`, "title"},
		{"reserved category", spaceCategory, http.StatusBadRequest, errSpaceCategory.message, "category"},
		{"message over the decode limit", padded, http.StatusRequestEntityTooLarge, errMessageTooLarge.message, ""},
		{"body over MaxBodyBytes", `{"title": "` + strings.Repeat("x", DefaultMaxBodyBytes) + `"}`,
			http.StatusRequestEntityTooLarge, errBodyTooLarge.message, ""},
	}
	f := newFixture(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := f.do(t, http.MethodPost, PathMessages, c.body, bearer(publisherToken)...).wantStatus(t, c.status)
			var got errorBody
			decodeJSON(t, r.body, &got)
			if want := (errorBody{Status: "error", Message: c.msg, Field: c.field}); got != want {
				t.Fatalf("body %s, want %+v", r.body, want)
			}
		})
	}
	if got := f.pub.published(); len(got) != 0 {
		t.Fatalf("published %d rejected messages", len(got))
	}
}

func TestPublishFailures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		err    error
		status int
		msg    string
	}{
		{"redis down", fmt.Errorf("pubsub: publish %q: %w", "chat:main", errBackend), http.StatusServiceUnavailable, "service unavailable"},
		{"encoded too large", fmt.Errorf("pubsub: encode: %w", message.ErrTooLarge), http.StatusRequestEntityTooLarge, errMessageTooLarge.message},
		{"invalid, wrapped", fmt.Errorf("pubsub: %w", &message.FieldError{Field: "target.principals", Reason: "has more than 1024 entries"}),
			http.StatusBadRequest, `message: field "target.principals" has more than 1024 entries`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, func(cfg *Config) { cfg.Publisher = &recordingPublisher{err: c.err} })
			r := f.do(t, http.MethodPost, PathMessages, validBody, bearer(publisherToken)...).wantStatus(t, c.status)
			var got errorBody
			decodeJSON(t, r.body, &got)
			if got.Status != "error" || got.Message != c.msg {
				t.Fatalf("body %s, want message %q", r.body, c.msg)
			}
			if strings.Contains(string(r.body), "secret-detail") || strings.Contains(string(r.body), "pubsub") {
				t.Fatalf("internal detail leaked: %s", r.body)
			}
			if !strings.Contains(f.logs.String(), "pubsub") {
				t.Fatalf("internal detail not logged: %s", f.logs.String())
			}
		})
	}
}

func TestPublishSmallBodyLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config) { c.MaxBodyBytes = 64 })
	f.do(t, http.MethodPost, PathMessages, validBody, bearer(publisherToken)...).
		wantError(t, http.StatusRequestEntityTooLarge, errBodyTooLarge.message)
}

func TestPublishNotMountedWithoutPublisher(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config) { c.Publisher = nil })
	f.do(t, http.MethodPost, PathMessages, validBody, bearer(publisherToken)...).wantError(t, http.StatusNotFound, "not found")
}
