package main

import (
	"bufio"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Files whose queries must name metrics /metrics exposes.
const (
	dashboardFile = "../../deploy/grafana/notifyd.json"
	alertsFile    = "../../deploy/prometheus/alerts.yml"
)

// synthetic are the series Prometheus itself records for every target:
// not on /metrics, yet there.
var synthetic = []string{"up"}

// Every query of the Grafana dashboard and every alert rule names only
// metrics a running notifyd exposes (histograms as _bucket, _sum, _count).
func TestDashboardAndAlertsNameExposedMetrics(t *testing.T) {
	g := startGateway(t, nil)
	publishTo(t, g, "dashboard", "users:bob") // every labelled series gets a sample
	exposed := exposedNames(t, readBody(t, get(t, g.url("/metrics"), "")))

	queries := dashboardQueries(t)
	alerts := alertQueries(t)
	if len(queries) < 10 || len(alerts) < 5 {
		t.Fatalf("found %d dashboard queries and %d alert expressions: the files were not read as expected", len(queries), len(alerts))
	}
	for _, q := range append(queries, alerts...) {
		names := metricNames(q)
		if len(names) == 0 {
			t.Errorf("no metric name found in %q", q)
		}
		for _, n := range names {
			if !exposed[n] && !slices.Contains(synthetic, n) {
				t.Errorf("%q names %s, which /metrics does not expose", q, n)
			}
		}
	}
}

// exposedNames returns the sample names of a Prometheus text exposition.
func exposedNames(t *testing.T, text string) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	for line := range strings.Lines(text) {
		if line = strings.TrimSpace(line); line == "" || line[0] == '#' {
			continue
		}
		if i := strings.IndexAny(line, "{ "); i > 0 {
			names[line[:i]] = true
		}
	}
	if !names["notifyd_ws_connections"] || !names["notifyd_ws_handshake_seconds_bucket"] {
		t.Fatalf("the scrape does not look like notifyd's:\n%s", text)
	}
	return names
}

// labelValues matches a Grafana variable query, label_values(metric, label).
var labelValues = regexp.MustCompile(`label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)`)

// dashboardQueries returns every "expr" of the dashboard and the metric of
// each label_values variable query (as a query of that metric alone).
func dashboardQueries(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "expr" {
					out = append(out, s)
				} else if ok && (k == "definition" || k == "query") {
					for _, m := range labelValues.FindAllStringSubmatch(s, -1) {
						out = append(out, m[1])
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	return out
}

// alertQueries returns every rule's expr; it fails for a rule without a
// one-line expr, a summary or a runbook annotation.
func alertQueries(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type rule struct {
		name                   string
		expr                   string
		summary, runbook, line bool
	}
	var rules []*rule
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		key, value, _ := strings.Cut(line, ":")
		value = strings.TrimSpace(value)
		if key == "- alert" {
			rules = append(rules, &rule{name: value})
			continue
		}
		if len(rules) == 0 {
			continue
		}
		r := rules[len(rules)-1]
		switch key {
		case "expr":
			if value == "" || value == "|" || value == ">" || strings.HasPrefix(value, "|") || strings.HasPrefix(value, ">") {
				t.Errorf("%s:%d: keep %s's expr on one line", alertsFile, n, r.name)
			}
			r.expr = value
		case "summary":
			r.summary = value != ""
		case "runbook":
			r.runbook = strings.Contains(value, "README.md#")
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rules {
		if !r.summary || !r.runbook {
			t.Errorf("alert %s lacks a summary or a runbook pointing to README.md#…", r.name)
		}
		out = append(out, r.expr)
	}
	return out
}

// promKeywords are PromQL words that are not metric names when no "(" follows:
// operators, modifiers, and the aggregations (sum by (x) (…)).
var promKeywords = []string{"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
	"group_left", "group_right", "inf", "nan", "atan2", "sum", "min", "max", "avg", "group", "stddev",
	"stdvar", "count", "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio"}

// grouping are the words followed by a parenthesised list of labels.
var grouping = []string{"by", "without", "on", "ignoring", "group_left", "group_right"}

// metricNames returns the metric names of a PromQL expression: the
// identifiers outside label matchers ({…}), ranges ([…]), strings and
// grouping label lists, that are neither functions (followed by "(") nor
// keywords. Grafana's $variables are skipped.
func metricNames(expr string) []string {
	var names []string
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			i = skipString(expr, i)
		case c == '{':
			i = skipTo(expr, i, '}')
		case c == '[':
			i = skipTo(expr, i, ']')
		case c == '$':
			i++
			for i < len(expr) && isIdent(expr[i], true) {
				i++
			}
		case c >= '0' && c <= '9' || c == '.':
			for i < len(expr) && (isIdent(expr[i], true) || expr[i] == '.') {
				i++ // a number or a duration
			}
		case isIdent(c, false):
			start := i
			for i < len(expr) && isIdent(expr[i], true) {
				i++
			}
			word := expr[start:i]
			next := strings.TrimLeft(expr[i:], " \t\n")
			switch {
			case slices.Contains(grouping, word) && strings.HasPrefix(next, "("):
				i = skipTo(expr, strings.Index(expr[i:], "(")+i, ')')
			case strings.HasPrefix(next, "("), slices.Contains(promKeywords, strings.ToLower(word)):
			default:
				names = append(names, word)
			}
		default:
			i++
		}
	}
	return names
}

func isIdent(c byte, inside bool) bool {
	return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || inside && c >= '0' && c <= '9'
}

// skipString returns the index after the string literal starting at i.
func skipString(s string, i int) int {
	q := s[i]
	for i++; i < len(s); i++ {
		if s[i] == '\\' && q != '`' {
			i++
		} else if s[i] == q {
			return i + 1
		}
	}
	return len(s)
}

// skipTo returns the index after the closing byte matching the opening one
// at i, skipping strings on the way.
func skipTo(s string, i int, closing byte) int {
	for i++; i < len(s); {
		switch s[i] {
		case '"', '\'', '`':
			i = skipString(s, i)
		case closing:
			return i + 1
		default:
			i++
		}
	}
	return len(s)
}

func TestMetricNames(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		expr string
		want []string
	}{
		{`notifyd_ws_connections`, []string{"notifyd_ws_connections"}},
		{`up{job=~"notifyd.*"} == 0`, []string{"up"}},
		{`histogram_quantile(0.99, sum by (le, route) (rate(notifyd_http_request_duration_seconds_bucket{instance=~"$instance",route!="a{b}"}[$__rate_interval])))`,
			[]string{"notifyd_http_request_duration_seconds_bucket"}},
		{`sum without (reason) (increase(a_total[10m] offset 5m)) > 5 * on (instance) group_left (x) b + 1 and bool c`,
			[]string{"a_total", "b", "c"}},
		{`max_over_time(x[10m:1m]) > 0 unless y`, []string{"x", "y"}},
	} {
		if got := metricNames(tt.expr); !slices.Equal(got, tt.want) {
			t.Errorf("metricNames(%q) = %v, want %v", tt.expr, got, tt.want)
		}
	}
}
