// Package metrics exposes notifyd's counters in the Prometheus text format.
// The packages that count (wsgateway, pubsub, handler) keep plain atomic
// counters and Stats snapshots and know nothing of Prometheus; a Collector
// turns snapshots into metrics at scrape time.
//
// A Collector is safe for concurrent use if its gather function is.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Sample is one value of one metric. Label is optional: one name/value pair
// (e.g. reason="slow") is all notifyd's counters need.
type Sample struct {
	Name       string // e.g. notifyd_ws_disconnects_total
	Help       string
	Gauge      bool // false: a counter
	LabelName  string
	LabelValue string
	Value      float64
}

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
		var labels []string
		var values []string
		if s.LabelName != "" {
			labels, values = []string{s.LabelName}, []string{s.LabelValue}
		}
		kind := prometheus.CounterValue
		if s.Gauge {
			kind = prometheus.GaugeValue
		}
		desc := prometheus.NewDesc(s.Name, s.Help, labels, nil)
		m, err := prometheus.NewConstMetric(desc, kind, s.Value, values...)
		if err != nil {
			m = prometheus.NewInvalidMetric(desc, err)
		}
		ch <- m
	}
}

// Handler returns an http.Handler serving the collector's metrics plus the
// Go runtime and process metrics, from a registry of its own (no globals).
func Handler(c *Collector) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(c, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
