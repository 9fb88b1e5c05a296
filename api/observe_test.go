package api

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/notifyd/notifyd/message"
)

func withRecorder(rec *Recorder) func(*Config) { return func(c *Config) { c.Recorder = rec } }

// The middleware records route patterns (RouteOther when none matched),
// bounded methods and statuses, and names each publish's outcome.
func TestObserveRecordsRoutesAndOutcomes(t *testing.T) {
	t.Parallel()
	rec := NewRecorder()
	f := newFixture(t, withRecorder(rec))
	f.do(t, http.MethodPost, PathMessages, validBody, bearer(publisherToken)...).wantStatus(t, http.StatusAccepted)
	f.do(t, http.MethodPost, PathMessages, validBody).wantStatus(t, http.StatusUnauthorized)
	f.do(t, http.MethodPost, PathMessages, `{"title": 42}`, bearer(publisherToken)...).wantStatus(t, http.StatusBadRequest)
	f.do(t, http.MethodGet, PathHealthz, "").wantStatus(t, http.StatusOK)
	f.do(t, http.MethodGet, "/no/such/path/12345", "").wantStatus(t, http.StatusNotFound)
	f.do(t, "BREW", PathHealthz, "")

	s := rec.Stats()
	got := map[RequestCount]bool{}
	for _, c := range s.Requests {
		got[c] = true
		if c.Route != RouteOther && c.Route[0] != '/' {
			t.Errorf("route %q is neither a pattern nor %q", c.Route, RouteOther)
		}
	}
	for _, want := range []RequestCount{
		{Route: PathMessages, Method: http.MethodPost, Status: http.StatusAccepted, Count: 1},
		{Route: PathMessages, Method: http.MethodPost, Status: http.StatusUnauthorized, Count: 1},
		{Route: PathMessages, Method: http.MethodPost, Status: http.StatusBadRequest, Count: 1},
		{Route: PathHealthz, Method: http.MethodGet, Status: http.StatusOK, Count: 1},
		{Route: RouteOther, Method: http.MethodGet, Status: http.StatusNotFound, Count: 1},
	} {
		if !got[want] {
			t.Errorf("Requests lack %+v: %+v", want, s.Requests)
		}
	}
	var other uint64
	for _, c := range s.Requests {
		if c.Method == MethodOther {
			other += c.Count
		}
	}
	if other != 1 {
		t.Errorf("requests with a made-up method counted as %q: %d, want 1 (%+v)", MethodOther, other, s.Requests)
	}
	for _, d := range s.Durations {
		if d.Route == PathMessages && d.Method == http.MethodPost && d.Duration.Count != 3 {
			t.Errorf("POST %s durations: %d observations, want 3", PathMessages, d.Duration.Count)
		}
	}
	wantPub := map[PublishOutcome]uint64{PublishAccepted: 1, PublishUnauthorized: 1, PublishInvalid: 1}
	for _, o := range PublishOutcomes() {
		if s.Publishes[o] != wantPub[o] {
			t.Errorf("Publishes[%s] = %d, want %d", o, s.Publishes[o], wantPub[o])
		}
	}
}

func TestPublishOutcomeOfStatus(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		status   int
		replayed bool
		want     PublishOutcome
	}{
		{http.StatusAccepted, false, PublishAccepted},
		{http.StatusAccepted, true, PublishReplayed},
		{http.StatusBadRequest, false, PublishInvalid},
		{http.StatusRequestEntityTooLarge, false, PublishTooLarge},
		{http.StatusUnprocessableEntity, false, PublishConflict},
		{http.StatusTooManyRequests, false, PublishRateLimited},
		{http.StatusUnauthorized, false, PublishUnauthorized},
		{http.StatusForbidden, false, PublishUnauthorized},
		{http.StatusServiceUnavailable, false, PublishUnavailable},
		{http.StatusInternalServerError, false, PublishUnavailable},
	} {
		if got := publishOutcome(tt.status, tt.replayed); got != tt.want {
			t.Errorf("publishOutcome(%d, %v) = %s, want %s", tt.status, tt.replayed, got, tt.want)
		}
	}
}

// A replayed publication is told apart from a first one by its header.
func TestObserveCountsReplayedPublish(t *testing.T) {
	t.Parallel()
	rec := NewRecorder()
	f := newFixture(t, withRecorder(rec), func(c *Config) { c.Publisher = replayingPublisher{} })
	f.do(t, http.MethodPost, PathMessages, validBody, bearer(publisherToken)...).wantStatus(t, http.StatusAccepted)
	if s := rec.Stats(); s.Publishes[PublishReplayed] != 1 || s.Publishes[PublishAccepted] != 0 {
		t.Errorf("Publishes = %v, want one replayed", s.Publishes)
	}
}

func TestRecordDoesNotAllocate(t *testing.T) {
	rec := NewRecorder()
	rec.record(PathMessages, http.MethodPost, http.StatusAccepted, time.Millisecond)
	if n := testing.AllocsPerRun(100, func() {
		rec.record(PathMessages, http.MethodPost, http.StatusAccepted, time.Millisecond)
	}); n != 0 {
		t.Fatalf("record allocates %v times per request", n)
	}
}

func BenchmarkRecord(b *testing.B) {
	rec := NewRecorder()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec.record(PathInbox, http.MethodGet, http.StatusOK, 3*time.Millisecond)
		}
	})
}

// replayingPublisher answers every publication as a replay of an earlier one.
type replayingPublisher struct{}

func (replayingPublisher) PublishIdempotent(_ context.Context, _ string, m *message.Message) (bool, error) {
	m.ID, m.Timestamp = "01JHVZ0000000000000000000A", message.FormatTimestamp(fixedNow())
	return true, nil
}
