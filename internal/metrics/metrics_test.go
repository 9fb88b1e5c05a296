package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/hist"
)

func TestHandlerExposesSamples(t *testing.T) {
	t.Parallel()
	n := 0.0
	c := NewCollector(func() []Sample {
		n++
		return []Sample{
			{Name: "notifyd_test_total", Help: "a counter", Value: n},
			{Name: "notifyd_drops_total", Help: "drops", LabelName: "reason", LabelValue: "slow", Value: 3},
			{Name: "notifyd_drops_total", Help: "drops", LabelName: "reason", LabelValue: "malformed", Value: 0},
			{Name: "notifyd_connections", Help: "open", Gauge: true, Value: 7},
		}
	})
	srv := httptest.NewServer(Handler(c))
	defer srv.Close()
	for want := 1; want <= 2; want++ {
		text := scrape(t, srv)
		for _, line := range []string{
			"notifyd_test_total " + string(rune('0'+want)),
			`notifyd_drops_total{reason="slow"} 3`,
			`notifyd_drops_total{reason="malformed"} 0`,
			"# TYPE notifyd_connections gauge",
			"notifyd_connections 7",
			"go_goroutines",
		} {
			if !strings.Contains(text, line) {
				t.Fatalf("scrape %d lacks %q:\n%s", want, line, text)
			}
		}
	}
}

func TestHandlerExposesHistogramsAndLabels(t *testing.T) {
	t.Parallel()
	h := hist.New(10*time.Millisecond, time.Second)
	h.Observe(5 * time.Millisecond)
	h.Observe(500 * time.Millisecond)
	h.Observe(2 * time.Second)
	snap := h.Snapshot()
	c := NewCollector(func() []Sample {
		return []Sample{
			{Name: "notifyd_test_seconds", Help: "a histogram", Histogram: &snap,
				Labels: []Label{{"route", "/a/{id}"}, {"method", "GET"}}},
			{Name: "notifyd_requests_total", Help: "requests", LabelName: "route", LabelValue: "/a",
				Labels: []Label{{"status", "200"}}, Value: 4},
		}
	})
	srv := httptest.NewServer(Handler(c))
	defer srv.Close()
	text := scrape(t, srv)
	for _, line := range []string{
		"# TYPE notifyd_test_seconds histogram",
		`notifyd_test_seconds_bucket{method="GET",route="/a/{id}",le="0.01"} 1`,
		`notifyd_test_seconds_bucket{method="GET",route="/a/{id}",le="1"} 2`,
		`notifyd_test_seconds_bucket{method="GET",route="/a/{id}",le="+Inf"} 3`,
		`notifyd_test_seconds_sum{method="GET",route="/a/{id}"} 2.505`,
		`notifyd_test_seconds_count{method="GET",route="/a/{id}"} 3`,
		`notifyd_requests_total{route="/a",status="200"} 4`,
	} {
		if !strings.Contains(text, line) {
			t.Fatalf("scrape lacks %q:\n%s", line, text)
		}
	}
}

// scrape returns the text srv serves.
func scrape(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}
