package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeRevoker records the principals it revokes and answers at, or err.
type fakeRevoker struct {
	at  time.Time // immutable after construction
	err error     // immutable after construction

	mu  sync.Mutex
	got []string // guarded by mu
}

func (v *fakeRevoker) Revoke(_ context.Context, principal string) (time.Time, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.got = append(v.got, principal)
	return v.at, v.err
}

func (v *fakeRevoker) revoked() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.got...)
}

func withRevoker(v Revoker) func(*Config) {
	return func(c *Config) { c.Revoker = v }
}

// revokedAt is a revocation time outside UTC, with nanoseconds.
var revokedAt = time.Date(2025, 1, 18, 19, 21, 0, 123456789, time.FixedZone("CEST", 2*3600))

func TestDisconnectAuthorization(t *testing.T) {
	t.Parallel()
	rev := &fakeRevoker{at: revokedAt}
	f := newFixture(t, withRevoker(rev))
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
			f.do(t, http.MethodPost, PathAdminDisconnect, `{"principal":"users:jdoe"}`, c.headers...).wantError(t, c.status, c.msg)
		})
	}
	t.Cleanup(func() {
		if got := rev.revoked(); len(got) != 0 {
			t.Errorf("revoked %q without a publisher token", got)
		}
	})
}

func TestDisconnectRejected(t *testing.T) {
	t.Parallel()
	badPrincipal := errBadPrincipal.message
	cases := []struct {
		name   string
		body   string
		status int
		msg    string
		field  string
	}{
		{"empty body", ``, http.StatusBadRequest, errMalformedBody.message, ""},
		{"not JSON", `{not json`, http.StatusBadRequest, errMalformedBody.message, ""},
		{"JSON array", `["users:jdoe"]`, http.StatusBadRequest, errMalformedBody.message, ""},
		{"JSON string", `"users:jdoe"`, http.StatusBadRequest, errMalformedBody.message, ""},
		{"trailing data", `{"principal":"users:jdoe"} {}`, http.StatusBadRequest, errMalformedBody.message, ""},
		{"missing principal", `{}`, http.StatusBadRequest, errNoPrincipal.message, "principal"},
		{"null body", `null`, http.StatusBadRequest, errNoPrincipal.message, "principal"},
		{"empty principal", `{"principal":""}`, http.StatusBadRequest, errNoPrincipal.message, "principal"},
		{"null principal", `{"principal":null}`, http.StatusBadRequest, errNoPrincipal.message, "principal"},
		{"numeric principal", `{"principal":42}`, http.StatusBadRequest, badPrincipal, "principal"},
		{"list principal", `{"principal":["users:jdoe"]}`, http.StatusBadRequest, badPrincipal, "principal"},
		{"newline in principal", `{"principal":"users:jdoe\nusers:admin"}`, http.StatusBadRequest, badPrincipal, "principal"},
		{"NUL in principal", `{"principal":"users:jdoe\u0000"}`, http.StatusBadRequest, badPrincipal, "principal"},
		{"C1 control in principal", `{"principal":"users:jdoe\u0085"}`, http.StatusBadRequest, badPrincipal, "principal"},
		{"principal too long", `{"principal":"` + strings.Repeat("x", MaxPrincipalBytes+1) + `"}`, http.StatusBadRequest, badPrincipal, "principal"},
		{"unknown field", `{"principal":"users:jdoe","force":true}`, http.StatusBadRequest, `unknown field "force"`, "force"},
		{"unknown fields named in order", `{"zz":1,"principal":"users:jdoe","aa":2}`, http.StatusBadRequest, `unknown field "aa"`, "aa"},
		{"field names are case-sensitive", `{"Principal":"users:jdoe"}`, http.StatusBadRequest, `unknown field "Principal"`, "Principal"},
		{"oversize body", `{"principal":"` + strings.Repeat(`\u0078`, maxDisconnectBody/6+1) + `"}`,
			http.StatusRequestEntityTooLarge, errBodyTooLarge.message, ""},
	}
	rev := &fakeRevoker{at: revokedAt}
	f := newFixture(t, withRevoker(rev))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := f.do(t, http.MethodPost, PathAdminDisconnect, c.body, bearer(publisherToken)...).wantStatus(t, c.status)
			var got errorBody
			decodeJSON(t, r.body, &got)
			if want := (errorBody{Status: "error", Message: c.msg, Field: c.field}); got != want {
				t.Fatalf("body %s, want %+v", r.body, want)
			}
		})
	}
	t.Cleanup(func() {
		if got := rev.revoked(); len(got) != 0 {
			t.Errorf("revoked %q from rejected requests", got)
		}
	})
}

func TestDisconnectRevokes(t *testing.T) {
	t.Parallel()
	longest := strings.Repeat("é", MaxPrincipalBytes/2) // 2 bytes each: exactly the limit
	cases := []struct {
		name      string
		principal string
	}{
		{"user", "users:jdoe"},
		{"with spaces and unicode", "group:Équipe éditoriale"},
		{"longest", longest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rev := &fakeRevoker{at: revokedAt}
			f := newFixture(t, withRevoker(rev))
			body, err := json.Marshal(map[string]string{"principal": c.principal})
			if err != nil {
				t.Fatal(err)
			}
			r := f.do(t, http.MethodPost, PathAdminDisconnect, string(body), bearer(publisherToken)...).wantStatus(t, http.StatusOK)
			var got map[string]any
			decodeJSON(t, r.body, &got)
			want := map[string]any{"status": "success", "principal": c.principal, "revoked_at": "2025-01-18T17:21:00.123456789Z"}
			if !jsonEqual(got, want) {
				t.Fatalf("body %s, want %v", r.body, want)
			}
			if got := rev.revoked(); len(got) != 1 || got[0] != c.principal {
				t.Fatalf("revoker called with %q, want [%q]", got, c.principal)
			}
			if logs := f.logs.String(); !strings.Contains(logs, "level=INFO msg=\"api: principal disconnected\"") ||
				!strings.Contains(logs, "request_id=") {
				t.Fatalf("disconnect not logged at Info with a request id: %s", logs)
			}
		})
	}
}

func TestDisconnectRevokerFailure(t *testing.T) {
	t.Parallel()
	rev := &fakeRevoker{err: fmt.Errorf("pubsub: revoke %q: %w", "users:jdoe", errBackend)}
	f := newFixture(t, withRevoker(rev))
	r := f.do(t, http.MethodPost, PathAdminDisconnect, `{"principal":"users:jdoe"}`, bearer(publisherToken)...)
	r.wantError(t, http.StatusServiceUnavailable, "service unavailable")
	if strings.Contains(string(r.body), "secret-detail") || strings.Contains(string(r.body), "pubsub") {
		t.Fatalf("internal detail leaked: %s", r.body)
	}
	if !strings.Contains(f.logs.String(), "secret-detail") {
		t.Fatalf("internal detail not logged: %s", f.logs.String())
	}
	if got := rev.revoked(); len(got) != 1 || got[0] != "users:jdoe" {
		t.Fatalf("revoker called with %q", got)
	}
}

func TestDisconnectNotMountedWithoutRevoker(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.do(t, http.MethodPost, PathAdminDisconnect, `{"principal":"users:jdoe"}`, bearer(publisherToken)...).
		wantError(t, http.StatusNotFound, "not found")
}

func TestDisconnectMethodNotAllowed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withRevoker(&fakeRevoker{at: revokedAt}))
	f.do(t, http.MethodGet, PathAdminDisconnect, "", bearer(publisherToken)...).
		wantError(t, http.StatusMethodNotAllowed, "method not allowed")
}

func FuzzDecodeDisconnect(f *testing.F) {
	for _, seed := range []string{
		`{"principal":"users:jdoe"}`, `{}`, `null`, `[]`, `{"principal":""}`, `{"principal":"a\u0000"}`,
		`{"principal":"x","y":1}`, `{"principal":"\ud800"}`, "{\"principal\":\"\xff\"}", `{"principal":1e9}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		principal, err := decodeDisconnect(body)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.status != http.StatusBadRequest {
				t.Fatalf("error %v is not a 400 catalogue entry", err)
			}
			return
		}
		if principal == "" || !validPrincipal(principal) {
			t.Fatalf("accepted invalid principal %q", principal)
		}
		again, err := json.Marshal(map[string]string{"principal": principal})
		if err != nil {
			t.Fatal(err)
		}
		if p2, err := decodeDisconnect(again); err != nil || p2 != principal {
			t.Fatalf("re-encoded %s decodes to %q, %v", again, p2, err)
		}
	})
}
