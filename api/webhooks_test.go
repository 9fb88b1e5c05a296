package api

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/webhook"
)

func webhookFixture(tb testing.TB, wh *fakeWebhooks, opts ...func(*Config)) *fixture {
	tb.Helper()
	return newFixture(tb, append([]func(*Config){func(c *Config) { c.Webhooks = wh }, withTwoPublishers(tb)}, opts...)...)
}

// TestWebhookRegister: a list of spaces or "*" is stored for the request's
// site and the token's owner, with the secret; the answer never holds the
// secret nor the token.
func TestWebhookRegister(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body, query, host string
		spaces                  []string
	}{
		{"list", `{"url":"https://bot.example/hook","spaces":["S1","S2"],"secret":"s3cr3t-value"}`, "", siteA, []string{"S1", "S2"}},
		{"all", `{"url":"https://bot.example/hook","spaces":"*","secret":"s3cr3t-value"}`, "?host=" + siteB, siteB, []string{"*"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			wh := &fakeWebhooks{}
			f := webhookFixture(t, wh)
			res := f.do(t, "POST", PathWebhooks+c.query, c.body, bearer(publisherToken)...).wantStatus(t, 201)
			regs := wh.registrations()
			if len(regs) != 1 {
				t.Fatalf("%d registrations", len(regs))
			}
			r := regs[0]
			if r.URL != "https://bot.example/hook" || !slices.Equal(r.Spaces, c.spaces) || r.Secret != "s3cr3t-value" || r.Host != c.host ||
				r.Owner != limitKey(publisherToken) {
				t.Fatalf("registered %+v", r)
			}
			if got, want := string(res.body), marshal(t, r); got != want {
				t.Fatalf("body\n got %s\nwant %s", got, want)
			}
			if b := string(res.body); strings.Contains(b, "s3cr3t") || strings.Contains(b, publisherToken) {
				t.Fatalf("the answer leaks the secret or the token: %s", b)
			}
		})
	}
}

// TestWebhookRequestRefused: members of the wrong type are 400 naming the
// member; unknown members, what is not an object and oversize bodies are
// refused; the store is not asked.
func TestWebhookRequestRefused(t *testing.T) {
	t.Parallel()
	wh := &fakeWebhooks{}
	f := webhookFixture(t, wh)
	pub := bearer(publisherToken)
	for _, c := range []struct{ body, field string }{
		{`{"url":1,"spaces":["S1"],"secret":"s"}`, "url"},
		{`{"url":"https://b.example","spaces":"S1","secret":"s"}`, "spaces"},
		{`{"url":"https://b.example","spaces":[1],"secret":"s"}`, "spaces"},
		{`{"url":"https://b.example","spaces":{"*":true},"secret":"s"}`, "spaces"},
		{`{"url":"https://b.example","spaces":["S1"],"secret":true}`, "secret"},
	} {
		f.do(t, "POST", PathWebhooks, c.body, pub...).wantErrorField(t, 400, "field "+c.field+" has the wrong type", c.field)
	}
	f.do(t, "POST", PathWebhooks, `{"url":"https://b.example","spaces":"*","secret":"s","owner":"x"}`, pub...).
		wantErrorField(t, 400, `unknown field "owner"`, "owner")
	f.do(t, "POST", PathWebhooks, `[]`, pub...).wantError(t, 400, errMalformedBody.message)
	f.do(t, "POST", PathWebhooks, `{"secret":"`+strings.Repeat("x", MaxInboxBodyBytes)+`"}`, pub...).wantError(t, 413, errBodyTooLarge.message)
	if regs := wh.registrations(); len(regs) != 0 {
		t.Fatalf("registered %+v", regs)
	}
}

// TestWebhookErrors: the store's errors map to their status; the reason of
// an invalid registration is sent, nothing internal.
func TestWebhookErrors(t *testing.T) {
	t.Parallel()
	invalid := fmt.Errorf("%w: url must be http or https", webhook.ErrInvalid)
	body := `{"url":"https://10.0.0.1/hook","spaces":"*","secret":"s"}`
	for _, c := range []struct {
		err    error
		status int
		msg    string
	}{
		{invalid, 400, invalid.Error()},
		{fmt.Errorf("10.0.0.1: %w", webhook.ErrForbiddenAddress), 403, errWebhookAddress.message},
		{fmt.Errorf("50 of 50: %w", webhook.ErrTooMany), 409, errWebhookTooMany.message},
		{errBackend, 503, errUnavailable.message},
	} {
		f := webhookFixture(t, &fakeWebhooks{err: c.err})
		pub := bearer(publisherToken)
		f.do(t, "POST", PathWebhooks, body, pub...).wantError(t, c.status, c.msg)
		if c.status == 503 {
			f.do(t, "GET", PathWebhooks, "", pub...).wantError(t, 503, errUnavailable.message)
			f.do(t, "DELETE", PathWebhooks+"/W1", "", pub...).wantError(t, 503, errUnavailable.message)
		}
	}
}

// TestWebhookScopedToOwner: each publisher token lists and deletes only its
// own registrations, on the request's site.
func TestWebhookScopedToOwner(t *testing.T) {
	t.Parallel()
	f := webhookFixture(t, &fakeWebhooks{})
	a, b := bearer(publisherToken), bearer(otherPublisherToken)
	var reg webhook.Registration
	decodeJSON(t, f.do(t, "POST", PathWebhooks, `{"url":"https://bot.example/a","spaces":"*","secret":"s"}`, a...).wantStatus(t, 201).body, &reg)
	f.do(t, "POST", PathWebhooks, `{"url":"https://bot.example/b","spaces":["S1"],"secret":"s"}`, b...).wantStatus(t, 201)

	list := func(tok []string, query string) []string {
		var l struct{ Webhooks []webhook.Registration }
		decodeJSON(t, f.do(t, "GET", PathWebhooks+query, "", tok...).wantStatus(t, 200).body, &l)
		var urls []string
		for _, r := range l.Webhooks {
			urls = append(urls, r.URL)
		}
		return urls
	}
	if got := list(a, ""); !slices.Equal(got, []string{"https://bot.example/a"}) {
		t.Fatalf("a lists %v", got)
	}
	if got := list(b, ""); !slices.Equal(got, []string{"https://bot.example/b"}) {
		t.Fatalf("b lists %v", got)
	}
	if got := list(a, "?host="+siteB); len(got) != 0 {
		t.Fatalf("a lists %v on another site", got)
	}
	if r := f.do(t, "GET", PathWebhooks+"?host="+siteB, "", a...); string(r.body) != "{\"webhooks\":[]}\n" {
		t.Fatalf("empty list: %s", r.body)
	}
	f.do(t, "DELETE", PathWebhooks+"/"+reg.ID, "", b...).wantError(t, 404, errWebhookUnknown.message)
	f.do(t, "DELETE", PathWebhooks+"/"+reg.ID+"?host="+siteB, "", a...).wantError(t, 404, errWebhookUnknown.message)
	f.do(t, "DELETE", PathWebhooks+"/"+reg.ID, "", a...).wantStatus(t, 204)
	f.do(t, "DELETE", PathWebhooks+"/"+reg.ID, "", a...).wantError(t, 404, errWebhookUnknown.message)
	if got := list(a, ""); len(got) != 0 {
		t.Fatalf("a lists %v after deleting", got)
	}
}

// TestWebhookNeedsPublisher: a user's JWT is 403 and no token 401 on every
// route; the store is not asked.
func TestWebhookNeedsPublisher(t *testing.T) {
	t.Parallel()
	wh := &fakeWebhooks{err: errBackend} // any call would be a 503
	f := webhookFixture(t, wh)
	for _, r := range []struct{ method, path, body string }{
		{"POST", PathWebhooks, `{"url":"https://b.example","spaces":"*","secret":"s"}`},
		{"GET", PathWebhooks, ""},
		{"DELETE", PathWebhooks + "/W1", ""},
	} {
		f.do(t, r.method, r.path, r.body, jdoeToken(t)...).wantError(t, 403, errNotPublisher.message)
		f.do(t, r.method, r.path, r.body).wantError(t, 401, errAuthRequired.message)
		f.do(t, "OPTIONS", r.path, "", "Origin", siteA).wantStatus(t, 204)
	}
}
