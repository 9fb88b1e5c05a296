package api

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// loggedRequestID returns the request_id of the one "request failed" line
// in logs.
func loggedRequestID(tb testing.TB, logs string) string {
	tb.Helper()
	m := regexp.MustCompile(`msg="api: request failed" request_id=("(?:[^"\\]|\\.)*"|\S*)`).FindAllStringSubmatch(logs, -1)
	if len(m) != 1 {
		tb.Fatalf("want one failure logged, got %d: %s", len(m), logs)
	}
	return m[0][1]
}

// TestRequestIDFromClientIsBounded: a client's X-Request-Id is kept only when
// it is a short token; anything else is replaced by a generated id before it
// reaches a log.
func TestRequestIDFromClientIsBounded(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, id string
		kept     bool
	}{
		{"token", "req-0123_abc.DEF:9", true},
		{"uuid", "6f1c3a5e-3b7d-4e0c-9a3f-2d1b0c9e8f7a", true},
		{"longest", strings.Repeat("r", maxRequestIDBytes), true},
		{"too long", strings.Repeat("x", maxRequestIDBytes+1), false},
		{"huge", strings.Repeat("forged", 2000), false},
		{"spaces and quotes", `forged" level=ERROR msg="owned`, false},
		{"non-ASCII", "forgéd", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.do(t, http.MethodGet, "/nope", "", "X-Request-Id", c.id).wantStatus(t, http.StatusNotFound)
			got := loggedRequestID(t, f.logs.String())
			if kept := got == c.id; kept != c.kept {
				t.Fatalf("request_id %q logged for X-Request-Id %q; want kept=%v", got, c.id, c.kept)
			}
			if got == "" || len(got) > 2*maxRequestIDBytes {
				t.Fatalf("request_id %q", got)
			}
			if !c.kept && strings.Contains(f.logs.String(), "forged") {
				t.Fatalf("client value reached the log: %s", f.logs.String())
			}
		})
	}
}
