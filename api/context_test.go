package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/auth"
)

func TestContextShape(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok := mint(t, "users:jdoe", "John Doe", "group:editors", "role:reader")
	r := f.do(t, http.MethodGet, PathContext, "", bearer(tok)...).wantStatus(t, http.StatusOK)
	var got map[string]any
	decodeJSON(t, r.body, &got)
	want := map[string]any{
		"status": "success",
		"principal": map[string]any{
			"id":         "users:jdoe",
			"title":      "John Doe",
			"principals": []any{"users:jdoe", auth.Everyone, auth.Authenticated, "group:editors", "role:reader"},
		},
		"context": map[string]any{"*": []any{"content.review", "user.login"}},
	}
	if !jsonEqual(got, want) {
		t.Fatalf("context\n got %s\nwant %v", r.body, want)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
}

func TestContextWithoutCategories(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config) { c.Categories = nil })
	r := f.do(t, http.MethodGet, PathContext, "", bearer(mint(t, "users:jdoe", ""))...).wantStatus(t, http.StatusOK)
	if !strings.Contains(string(r.body), `"context":{"*":[]}`) {
		t.Fatalf("want an empty category list, not null: %s", r.body)
	}
	if !strings.Contains(string(r.body), `"title":"users:jdoe"`) {
		t.Fatalf("title should default to sub: %s", r.body)
	}
}

func TestUserEndpointsRequireAuthentication(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	expired, err := auth.Mint([]byte(testSecret), "users:jdoe", "", nil, time.Now().Add(-2*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := auth.Mint([]byte("another-secret-another-secret-!!"), "users:jdoe", "", nil, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		headers   []string
		challenge string
	}{
		{"no token", nil, "Bearer"},
		{"basic scheme", []string{"Authorization", "Basic dXNlcjpwYXNz"}, "Bearer"},
		{"garbage", bearer("not-a-jwt"), `Bearer error="invalid_token"`},
		{"wrong key", bearer(otherKey), `Bearer error="invalid_token"`},
		{"expired", bearer(expired), `Bearer error="invalid_token"`},
		{"publisher token", bearer(publisherToken), `Bearer error="invalid_token"`},
	}
	for _, path := range []string{PathContext, PathNotifications} {
		for _, c := range cases {
			t.Run(path+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				r := f.do(t, http.MethodGet, path, "", c.headers...)
				r.wantError(t, http.StatusUnauthorized, "authentication required")
				if got := r.header.Get("WWW-Authenticate"); got != c.challenge {
					t.Errorf("WWW-Authenticate %q, want %q", got, c.challenge)
				}
			})
		}
	}
}

// brokenAuthority cannot decide: its error is not one of auth's refusals.
type brokenAuthority struct{}

func (brokenAuthority) Verify(context.Context, string) (auth.Identity, error) {
	return auth.Identity{}, fmt.Errorf("authority: %w", errBackend)
}

func TestAuthenticatorFailureIsUnavailable(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config) { c.Auth = brokenAuthority{} })
	r := f.do(t, http.MethodGet, PathContext, "", bearer("whatever")...)
	r.wantError(t, http.StatusServiceUnavailable, "service unavailable")
	if strings.Contains(string(r.body), "secret-detail") {
		t.Fatalf("internal detail leaked: %s", r.body)
	}
	if !strings.Contains(f.logs.String(), "secret-detail") {
		t.Fatalf("internal detail not logged: %s", f.logs.String())
	}
}

// fakeRevocations is an auth.RevocationStore: revoked principals and when,
// or err.
type fakeRevocations struct {
	at  map[string]time.Time // immutable after construction
	err error
}

func (s fakeRevocations) RevokedAt(_ context.Context, principal string) (time.Time, bool, error) {
	if s.err != nil {
		return time.Time{}, false, s.err
	}
	at, ok := s.at[principal]
	return at, ok, nil
}

// withRevocations makes Config.Auth an auth.Revocable over the test
// verifier and store.
func withRevocations(tb testing.TB, store auth.RevocationStore) func(*Config) {
	tb.Helper()
	v, err := auth.NewVerifier(auth.Config{Secret: []byte(testSecret)})
	if err != nil {
		tb.Fatal(err)
	}
	return func(c *Config) { c.Auth = auth.Revocable{Verifier: v, Store: store} }
}

func TestRevokedTokenIsRefused(t *testing.T) {
	t.Parallel()
	now := time.Now()
	store := fakeRevocations{at: map[string]time.Time{"users:jdoe": now.Add(-5 * time.Minute)}}
	f := newFixture(t, withRevocations(t, store))
	mintAt := func(iat time.Time) string {
		tok, err := auth.Mint([]byte(testSecret), "users:jdoe", "", nil, iat, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	before, after := mintAt(now.Add(-10*time.Minute)), mintAt(now)
	for _, path := range []string{PathContext, PathNotifications} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			r := f.do(t, http.MethodGet, path, "", bearer(before)...)
			r.wantError(t, http.StatusUnauthorized, "authentication required")
			if got, want := r.header.Get("WWW-Authenticate"), `Bearer error="invalid_token"`; got != want {
				t.Errorf("WWW-Authenticate %q, want %q", got, want)
			}
			f.do(t, http.MethodGet, path, "", bearer(after)...).wantStatus(t, http.StatusOK)
		})
	}
}

func TestRevocationStoreDownIsUnavailable(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withRevocations(t, fakeRevocations{err: fmt.Errorf("pubsub: revoked at: %w", errBackend)}))
	for _, path := range []string{PathContext, PathNotifications} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			r := f.do(t, http.MethodGet, path, "", bearer(mint(t, "users:jdoe", ""))...)
			r.wantError(t, http.StatusServiceUnavailable, "service unavailable")
			if r.header.Get("WWW-Authenticate") != "" {
				t.Errorf("a 503 must not challenge: WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
			}
			if strings.Contains(string(r.body), "secret-detail") || strings.Contains(string(r.body), "revocation") {
				t.Fatalf("internal detail leaked: %s", r.body)
			}
		})
	}
	t.Cleanup(func() {
		if !strings.Contains(f.logs.String(), "revocation list unavailable") {
			t.Errorf("auth.ErrUnavailable not logged: %s", f.logs.String())
		}
	})
}
