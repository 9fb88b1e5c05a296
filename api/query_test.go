package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"

	"github.com/notifyd/notifyd/message"
)

func TestParseLimit(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want int
		ok   bool
	}{
		{"1", 1, true}, {"007", 7, true}, {"1000", 1000, true},
		{"0", 0, false}, {"1001", 0, false}, {"-1", 0, false}, {"+1", 0, false},
		{"1e3", 0, false}, {"", 0, false}, {"18446744073709551617", 0, false},
	}
	for _, c := range cases {
		got, ok := parseLimit(c.in, 1000)
		if got != c.want || ok != c.ok {
			t.Errorf("parseLimit(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// FuzzNotificationsQuery feeds arbitrary query strings to the parser and to
// the whole endpoint: the answer is 200 or 400, never anything else, and a
// 200 respects the limit.
func FuzzNotificationsQuery(f *testing.F) {
	for _, s := range []string{"", "limit=3", "since=N02&limit=2", "limit=0", "limit=abc", "since=gone",
		"limit=1000", "limit=1001", "limit=99999999999999999999", "since=N00&since=N03&limit=1&limit=2", "%zz"} {
		f.Add(s)
	}
	logs := &syncBuffer{}
	cfg := testConfig(f, logs, withHistory(map[string][]*message.Message{siteA: visibleList(10)}))
	h, err := New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	tok := mint(f, "users:jdoe", "")
	f.Fuzz(func(t *testing.T, raw string) {
		v, _ := url.ParseQuery(raw)
		q, perr := parseNotificationsQuery(v, DefaultMaxLimit)
		if perr == nil {
			if q.limit < 0 || q.limit > DefaultMaxLimit || (q.limit == 0) != (v.Get("limit") == "") {
				t.Fatalf("limit %d from %q", q.limit, v.Get("limit"))
			}
			if q.since != v.Get("since") || len(q.since) > message.MaxIDLength {
				t.Fatalf("since %q from %q", q.since, v.Get("since"))
			}
			if n, err := strconv.Atoi(v.Get("limit")); err == nil && n != q.limit && q.limit != 0 {
				t.Fatalf("limit %d, Atoi %d", q.limit, n)
			}
		} else if toAPIError(perr).status != http.StatusBadRequest {
			t.Fatalf("parse error %v is not a 400", perr)
		}

		req := httptest.NewRequest(http.MethodGet, PathNotifications, nil)
		req.URL.RawQuery = raw
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			var b notificationsBody
			if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
				t.Fatalf("200 with invalid JSON %q: %v", rec.Body.Bytes(), err)
			}
			if q.limit > 0 && len(b.Notifications) > q.limit {
				t.Fatalf("%d items for limit %d", len(b.Notifications), q.limit)
			}
		case http.StatusBadRequest:
		default:
			t.Fatalf("query %q: status %d body %s", raw, rec.Code, rec.Body.Bytes())
		}
	})
}
