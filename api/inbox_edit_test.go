package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/protocol"
)

func publisher() []string { return bearer(publisherToken) }

// TestUpdateAndRetract: a PATCH changes what the inbox lists, a DELETE
// takes the message out of it; both answer 404 for an id not kept.
func TestUpdateAndRetract(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, st inboxStore, put func(testing.TB, *message.Message)) {
		byID := seedInbox(t, put)
		f := inboxFixture(t, st, nil)

		patch := `{"host":"` + siteA + `","title":"New title","url":"https://a.example/doc","image":null,"modal":true,"extra":null,"added":[1,2]}`
		r := f.do(t, http.MethodPatch, PathMessages+"/I5", patch, publisher()...).wantStatus(t, http.StatusOK)
		want := byID["I5"].Clone()
		want.Title, want.URL, want.Modal = "New title", "https://a.example/doc", true
		want.Extra = map[string]json.RawMessage{"recipient": json.RawMessage(`"group:editors"`), "added": json.RawMessage(`[1,2]`)}
		if got := string(r.body); got != string(want.PushJSON())+"\n" {
			t.Fatalf("PATCH answered\n %s\nwant %s", got, want.PushJSON())
		}
		b := getInbox(t, f, "?limit=2")
		var item map[string]json.RawMessage
		decodeJSON(t, b.Notifications[1], &item)
		if string(item["title"]) != `"New title"` || string(item["added"]) != `[1,2]` || item["target"] != nil || item["recipient"] != nil {
			t.Fatalf("inbox after update: %s", b.Notifications[1])
		}

		f.do(t, http.MethodDelete, PathMessages+"/I6?host="+url.QueryEscape(siteA), "", publisher()...).wantStatus(t, http.StatusOK)
		if got := getInbox(t, f, "").ids(t); !slices.Equal(got, []string{"I5", "I2", "I1"}) {
			t.Fatalf("inbox after retract: %v", got)
		}
		if got := counts(t, f, http.MethodGet, PathInboxCount, ""); got.Unread != 3 {
			t.Fatalf("counts after retract: %+v", got)
		}
		f.do(t, http.MethodDelete, PathMessages+"/I6", "", publisher()...).wantError(t, http.StatusNotFound, errInboxNotFound.message)
		f.do(t, http.MethodDelete, PathMessages+"/GONE", "", publisher()...).wantError(t, http.StatusNotFound, errInboxNotFound.message)
		f.do(t, http.MethodPatch, PathMessages+"/GONE", `{"title":"x"}`, publisher()...).wantError(t, http.StatusNotFound, errInboxNotFound.message)
		f.do(t, http.MethodPatch, PathMessages+"/I6", `{"title":"x"}`, publisher()...).wantError(t, http.StatusNotFound, errInboxNotFound.message)
		f.do(t, http.MethodPatch, PathMessages+"/I1?host="+url.QueryEscape(siteB), `{"title":"x"}`, publisher()...).wantError(t, http.StatusNotFound, errInboxNotFound.message)
		f.do(t, http.MethodPatch, PathMessages+"/"+strings.Repeat("A", 65), `{"title":"x"}`, publisher()...).wantError(t, http.StatusNotFound, errInboxNotFound.message)
	})
}

// TestEditRefused: a refused PATCH changes nothing; a DELETE of a space
// message is refused (its space keeps its own list, sender and
// moderators) and leaves it kept.
func TestEditRefused(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, st inboxStore, put func(testing.TB, *message.Message)) {
		seedInbox(t, put)
		put(t, inboxNote("S1", "users:boss", protocol.SpaceCategory, "space:s1"))
		f := inboxFixture(t, st, nil)
		cases := []struct {
			name, path, body string
			status           int
			message, field   string
		}{
			{"target", "/I5", `{"target":{"principals":["x"]}}`, 400, `field "target" cannot be changed`, "target"},
			{"source", "/I5", `{"title":"t","source":{"id":"x"}}`, 400, `field "source" cannot be changed`, "source"},
			{"channel", "/I5", `{"channel":"x"}`, 400, `field "channel" cannot be changed`, "channel"},
			{"id", "/I5", `{"id":"I9"}`, 400, `field "id" cannot be changed`, "id"},
			{"target key", "/I5", `{"recipient":"users:x"}`, 400, `field "recipient" cannot be changed`, "recipient"},
			{"empty title", "/I5", `{"title":""}`, 400, `message: field "title" is required`, "title"},
			{"title type", "/I5", `{"title":3}`, 400, `message: field "title" must be a string`, "title"},
			{"two-line title", "/I5", `{"title":"a\nb"}`, 400, `message: field "title" must be a single line`, "title"},
			{"bad url", "/I5", `{"url":"javascript:alert(1)"}`, 400, "", "url"},
			{"nothing", "/I5", `{"host":"` + siteA + `"}`, 400, errEmptyPatch.message, ""},
			{"not an object", "/I5", `[1]`, 400, errMalformedBody.message, ""},
			{"two sites", "/I5?host=" + url.QueryEscape(siteB), `{"host":"` + siteA + `","title":"t"}`, 400, errSiteMismatch.message, "host"},
			{"bad site", "/I5", `{"host":"ftp://a.example","title":"t"}`, 400, "", "host"},
			{"space message", "/S1?host=" + url.QueryEscape(siteA), `{"title":"t"}`, 400, errSpaceEdit.message, "category"},
			{"too large", "/I5", `{"title":"` + strings.Repeat("a", DefaultMaxBodyBytes) + `"}`, 413, errBodyTooLarge.message, ""},
		}
		for _, c := range cases {
			r := f.do(t, http.MethodPatch, PathMessages+c.path, c.body, publisher()...)
			var got errorBody
			decodeJSON(t, r.body, &got)
			if r.status != c.status || got.Field != c.field || (c.message != "" && got.Message != c.message) {
				t.Errorf("%s: %d %s, want %d %q field %q", c.name, r.status, r.body, c.status, c.message, c.field)
			}
		}
		if got := getInbox(t, f, "?limit=2").Notifications[1]; !strings.Contains(string(got), `"title":"Title I5"`) {
			t.Fatalf("a refused PATCH changed the message: %s", got)
		}
		f.do(t, http.MethodDelete, PathMessages+"/S1?host="+url.QueryEscape(siteA), "", publisher()...).
			wantErrorField(t, http.StatusBadRequest, errSpaceDelete.message, "category")
		// Still kept: a retract without the refusal finds it (a retracted
		// or unknown id fails with ErrNotFound).
		if _, err := st.RetractUnless(t.Context(), siteA, "S1", ""); err != nil {
			t.Fatalf("the refused DELETE did not keep the space message: %v", err)
		}
	})
}

// TestEditAuth: PATCH and DELETE take a publisher token only and share the
// publish bucket.
func TestEditAuth(t *testing.T) {
	t.Parallel()
	st := newMemInbox()
	st.store(inboxNote("I1", "users:boss", "c", jdoe))
	f := newFixture(t, func(c *Config) { c.Inbox, c.Editor, c.PublishRate, c.PublishBurst = st, st, 1e-9, 2 })
	f.do(t, http.MethodDelete, PathMessages+"/I1", "").wantError(t, http.StatusUnauthorized, errAuthRequired.message)
	f.do(t, http.MethodDelete, PathMessages+"/I1", "", jdoeToken(t)...).wantError(t, http.StatusForbidden, errNotPublisher.message)
	f.do(t, http.MethodPatch, PathMessages+"/I1", `{"title":"t"}`, jdoeToken(t)...).wantError(t, http.StatusForbidden, errNotPublisher.message)
	f.do(t, http.MethodPost, PathMessages, validBody, publisher()...).wantStatus(t, http.StatusAccepted)
	f.do(t, http.MethodPatch, PathMessages+"/I1", `{"title":"t"}`, publisher()...).wantStatus(t, http.StatusOK)
	r := f.do(t, http.MethodDelete, PathMessages+"/I1", "", publisher()...)
	r.wantError(t, http.StatusTooManyRequests, errRateLimited.message)
	if r.header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
}
