package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
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
		resp, err := srv.Client().Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		text := string(body)
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
