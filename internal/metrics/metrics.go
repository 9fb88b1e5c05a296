// Package metrics exposes notifyd's counters in the Prometheus text format.
// The packages that count (wsgateway, pubsub, handler, api) keep plain
// atomic counters, internal/hist histograms and Stats snapshots and know
// nothing of Prometheus; a Collector turns snapshots into metrics at scrape
// time.
//
// A Collector is safe for concurrent use if its gather function is.
package metrics

import (
	"net/http"

	"github.com/notifyd/notifyd/internal/hist"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Sample is one value of one metric: a counter, a gauge or a histogram.
// Labels are optional: LabelName and LabelValue name one pair (e.g.
// reason="slow"), Labels more, after it. Every sample of one name must have
// the same label names, and the same Help.
type Sample struct {
	Name       string // e.g. notifyd_ws_disconnects_total
	Help       string
	Gauge      bool // false: a counter (ignored with Histogram)
	LabelName  string
	LabelValue string
	Labels     []Label
	Value      float64
	// Histogram, when set, makes the sample a histogram (Value is ignored):
	// <Name>_bucket{le=...}, <Name>_sum and <Name>_count, in seconds.
	Histogram *hist.Snapshot
}

// Label is one name/value pair of a Sample.
type Label struct{ Name, Value string }

// Collector is an unchecked prometheus.Collector over a gather function.
type Collector struct {
	gather func() []Sample
}

// NewCollector returns a collector that calls gather at every scrape.
func NewCollector(gather func() []Sample) *Collector { return &Collector{gather: gather} }

// Describe sends nothing: the collector is unchecked, its metrics are
// described at collection time.
func (c *Collector) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.gather() {
		ch <- s.metric()
	}
}

// metric turns s into a constant metric (an invalid one, reported by the
// registry, when s is inconsistent).
func (s Sample) metric() prometheus.Metric {
	var labels, values []string
	if s.LabelName != "" {
		labels, values = []string{s.LabelName}, []string{s.LabelValue}
	}
	for _, l := range s.Labels {
		labels, values = append(labels, l.Name), append(values, l.Value)
	}
	desc := prometheus.NewDesc(s.Name, s.Help, labels, nil)
	var m prometheus.Metric
	var err error
	if h := s.Histogram; h != nil {
		buckets := make(map[float64]uint64, len(h.Bounds))
		cum := h.Cumulative()
		for i, b := range h.Bounds {
			buckets[b.Seconds()] = cum[i]
		}
		m, err = prometheus.NewConstHistogram(desc, h.Count, h.Sum.Seconds(), buckets, values...)
	} else {
		kind := prometheus.CounterValue
		if s.Gauge {
			kind = prometheus.GaugeValue
		}
		m, err = prometheus.NewConstMetric(desc, kind, s.Value, values...)
	}
	if err != nil {
		return prometheus.NewInvalidMetric(desc, err)
	}
	return m
}

// Handler returns an http.Handler serving the collector's metrics plus the
// Go runtime and process metrics, from a registry of its own (no globals).
func Handler(c *Collector) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(c, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
