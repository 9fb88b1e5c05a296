package api

import (
	"cmp"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/notifyd/notifyd/internal/hist"
)

// RouteOther is the route of the requests that matched no route (404, 405):
// Stats never names a raw path, so its size is bounded by the routes.
const RouteOther = "other"

// MethodOther is the method of requests whose method is not a standard one.
const MethodOther = "OTHER"

// PublishOutcome is how a POST /api/chat/messages ended.
type PublishOutcome string

// Publish outcomes, counted in Stats.Publishes, from the answer's status.
const (
	// PublishAccepted: stored and published (202).
	PublishAccepted PublishOutcome = "accepted"
	// PublishReplayed: published before under the same Idempotency-Key or
	// id; nothing done (202 with Idempotent-Replayed: true).
	PublishReplayed PublishOutcome = "replayed"
	// PublishInvalid: the request or the message is invalid (400).
	PublishInvalid PublishOutcome = "invalid"
	// PublishTooLarge: the body or the message is too large (413).
	PublishTooLarge PublishOutcome = "too_large"
	// PublishConflict: the Idempotency-Key was used for another message (422).
	PublishConflict PublishOutcome = "conflict"
	// PublishRateLimited: the publisher token's bucket was empty (429).
	PublishRateLimited PublishOutcome = "rate_limited"
	// PublishUnauthorized: no publisher token (401), another token or a
	// refused origin (403).
	PublishUnauthorized PublishOutcome = "unauthorized"
	// PublishUnavailable: Redis or the store failed (503), or anything else
	// went wrong (500).
	PublishUnavailable PublishOutcome = "unavailable"
)

// PublishOutcomes lists every PublishOutcome.
func PublishOutcomes() []PublishOutcome {
	return []PublishOutcome{PublishAccepted, PublishReplayed, PublishInvalid, PublishTooLarge,
		PublishConflict, PublishRateLimited, PublishUnauthorized, PublishUnavailable}
}

// publishOutcome names the outcome of a POST /api/chat/messages answered
// with status (and replayed: Idempotent-Replayed: true).
func publishOutcome(status int, replayed bool) PublishOutcome {
	switch status {
	case http.StatusAccepted:
		if replayed {
			return PublishReplayed
		}
		return PublishAccepted
	case http.StatusBadRequest:
		return PublishInvalid
	case http.StatusRequestEntityTooLarge:
		return PublishTooLarge
	case http.StatusUnprocessableEntity:
		return PublishConflict
	case http.StatusTooManyRequests:
		return PublishRateLimited
	case http.StatusUnauthorized, http.StatusForbidden:
		return PublishUnauthorized
	}
	return PublishUnavailable
}

// Stats is a snapshot of a Recorder.
type Stats struct {
	// Requests counts answered requests by route, method and status,
	// sorted; a combination appears once it has been seen.
	Requests []RequestCount
	// Durations are the request durations by route and method (the time
	// spent in the router, from its first middleware to the handler's
	// return), sorted.
	Durations []RouteDuration
	// Publishes counts POST /api/chat/messages by outcome; every outcome of
	// PublishOutcomes is present.
	Publishes map[PublishOutcome]uint64
}

// RequestCount is the number of requests of one route, method and status.
type RequestCount struct {
	Route  string // the route pattern, e.g. /api/chat/messages/{id}, or RouteOther
	Method string // GET, POST, …, or MethodOther
	Status int
	Count  uint64
}

// RouteDuration is the duration histogram of one route and method.
type RouteDuration struct {
	Route, Method string
	Duration      hist.Snapshot
}

// Recorder records what the router answers, for Config.Recorder: requests
// by route (the pattern, never the raw path), method and status, their
// durations, and publish outcomes. Create it with NewRecorder. It is safe
// for concurrent use; recording a combination already seen does not
// allocate.
type Recorder struct {
	// immutable after NewRecorder; the values are atomic
	publishes map[PublishOutcome]*atomic.Uint64

	mu        sync.RWMutex
	counts    map[requestKey]*atomic.Uint64 // guarded by mu (the map; values are atomic)
	durations map[routeKey]*hist.Histogram  // guarded by mu (the map; values guard themselves)
}

type routeKey struct{ route, method string }

type requestKey struct {
	routeKey
	status int
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder {
	r := &Recorder{
		publishes: make(map[PublishOutcome]*atomic.Uint64),
		counts:    make(map[requestKey]*atomic.Uint64),
		durations: make(map[routeKey]*hist.Histogram),
	}
	for _, o := range PublishOutcomes() {
		r.publishes[o] = new(atomic.Uint64)
	}
	return r
}

// record counts one answered request. route and method must already be
// bounded (a route pattern or RouteOther, a standard method or MethodOther).
func (r *Recorder) record(route, method string, status int, d time.Duration) {
	k := requestKey{routeKey{route, method}, status}
	r.mu.RLock()
	n, h := r.counts[k], r.durations[k.routeKey]
	r.mu.RUnlock()
	if n == nil || h == nil {
		n, h = r.add(k)
	}
	n.Add(1)
	h.Observe(d)
}

// add creates the counters of k, unless another request just did.
func (r *Recorder) add(k requestKey) (*atomic.Uint64, *hist.Histogram) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, h := r.counts[k], r.durations[k.routeKey]
	if n == nil {
		n = new(atomic.Uint64)
		r.counts[k] = n
	}
	if h == nil {
		h = hist.New()
		r.durations[k.routeKey] = h
	}
	return n, h
}

// published counts one publish outcome.
func (r *Recorder) published(o PublishOutcome) { r.publishes[o].Add(1) }

// Stats returns the recorder's counts and histograms.
func (r *Recorder) Stats() Stats {
	s := Stats{Publishes: make(map[PublishOutcome]uint64, len(r.publishes))}
	for o, n := range r.publishes {
		s.Publishes[o] = n.Load()
	}
	r.mu.RLock()
	for k, n := range r.counts {
		s.Requests = append(s.Requests, RequestCount{Route: k.route, Method: k.method, Status: k.status, Count: n.Load()})
	}
	for k, h := range r.durations {
		s.Durations = append(s.Durations, RouteDuration{Route: k.route, Method: k.method, Duration: h.Snapshot()})
	}
	r.mu.RUnlock()
	slices.SortFunc(s.Requests, func(a, b RequestCount) int {
		return cmp.Or(cmp.Compare(a.Route, b.Route), cmp.Compare(a.Method, b.Method), cmp.Compare(a.Status, b.Status))
	})
	slices.SortFunc(s.Durations, func(a, b RouteDuration) int {
		return cmp.Or(cmp.Compare(a.Route, b.Route), cmp.Compare(a.Method, b.Method))
	})
	return s
}
