package api

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/limit"
)

// Route paths served by the router.
const (
	PathContext       = "/api/chat/context"
	PathNotifications = "/api/chat/notifications"
	PathMessages      = "/api/chat/messages"
	// PathMessage is one stored message: PATCH updates it, DELETE retracts
	// it (publisher token).
	PathMessage = PathMessages + "/{id}"
	// The caller's own inbox on a site (user JWT; Config.Inbox).
	PathInbox            = "/api/inbox"
	PathInboxCount       = "/api/inbox/count"
	PathInboxRead        = "/api/inbox/read"
	PathInboxUnread      = "/api/inbox/unread"
	PathInboxSeen        = "/api/inbox/seen"
	PathInboxPreferences = "/api/inbox/preferences"
	// PathAdminDisconnect revokes a principal's tokens and closes its
	// websockets (POST, publisher token).
	PathAdminDisconnect = "/api/admin/disconnect"
	PathHealthz         = "/healthz"
	PathReadyz          = "/readyz"
	PathMonitor         = "/monitor"
	PathPing            = "/chat-ping"
	PathWebSocket       = "/ws/chat"
	// PathSSE is the server-sent events stream (the gateway's ServeSSE):
	// the websocket's pushes for networks that block websockets.
	PathSSE = "/sse/chat"
)

// server holds the handlers' shared state.
type server struct {
	// immutable after New
	cfg Config
	log *slog.Logger

	// The rate limiters guard themselves (safe for concurrent use); each is
	// disabled when its Config rate is negative.
	publishLimit *limit.Keyed // per publisher token, POST /api/chat/messages
	adminLimit   *limit.Keyed // per publisher token, POST /api/admin/disconnect
	restLimit    *limit.Keyed // per principal, GET /api/chat/context, /notifications and /api/inbox/*
}

// New applies defaults to cfg, validates it and returns the router. It starts
// no goroutine.
func New(cfg Config) (http.Handler, error) {
	switch {
	case cfg.Auth == nil:
		return nil, errors.New("api: Config.Auth is required")
	case cfg.Sites == nil:
		return nil, errors.New("api: Config.Sites is required")
	case cfg.MaxBodyBytes < 0:
		return nil, fmt.Errorf("api: Config.MaxBodyBytes is negative: %d", cfg.MaxBodyBytes)
	case cfg.MaxLimit < 0:
		return nil, fmt.Errorf("api: Config.MaxLimit is negative: %d", cfg.MaxLimit)
	case cfg.MaxInboxIDs < 0 || cfg.MaxInboxIDs > history.MaxMark:
		return nil, fmt.Errorf("api: Config.MaxInboxIDs %d is not within 0..%d", cfg.MaxInboxIDs, history.MaxMark)
	}
	if cfg.MaxInboxIDs == 0 {
		cfg.MaxInboxIDs = DefaultMaxInboxIDs
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxLimit == 0 {
		cfg.MaxLimit = DefaultMaxLimit
	}
	if cfg.Version == "" {
		cfg.Version = DefaultVersion
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &server{cfg: cfg, log: cfg.Logger}
	var errs [3]error
	s.publishLimit, errs[0] = newLimiter("Publish", &s.cfg.PublishRate, &s.cfg.PublishBurst, DefaultPublishRate, DefaultPublishBurst, cfg.Now)
	s.adminLimit, errs[1] = newLimiter("Admin", &s.cfg.AdminRate, &s.cfg.AdminBurst, DefaultAdminRate, DefaultAdminBurst, cfg.Now)
	s.restLimit, errs[2] = newLimiter("REST", &s.cfg.RESTRate, &s.cfg.RESTBurst, DefaultRESTRate, DefaultRESTBurst, cfg.Now)
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	return s.routes(), nil
}

// newLimiter validates the <name>Rate and <name>Burst fields, applies their
// defaults in place (zero: the default) and returns their limiter. A
// negative rate disables it (limit.Keyed then allows everything).
func newLimiter(name string, rate *float64, burst *int, defRate float64, defBurst int, now func() time.Time) (*limit.Keyed, error) {
	switch {
	case math.IsNaN(*rate) || math.IsInf(*rate, 0):
		return nil, fmt.Errorf("api: Config.%sRate is not finite: %v", name, *rate)
	case *burst < 0:
		return nil, fmt.Errorf("api: Config.%sBurst is negative: %d", name, *burst)
	}
	if *rate == 0 {
		*rate = defRate
	}
	if *burst == 0 {
		*burst = defBurst
	}
	return limit.New(limit.Config{Rate: *rate, Burst: *burst, Now: now}), nil
}

func (s *server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(s.observe) // first: counts what the recoverer answers too
	r.Use(requestID, s.recoverer)
	// Set before Route so that the /api subrouter inherits them.
	r.NotFound(func(w http.ResponseWriter, r *http.Request) { s.fail(w, r, errNotFound) })
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) { s.fail(w, r, errMethodNotAllowed) })

	r.Get(PathHealthz, s.healthz)
	r.Get(PathReadyz, s.readyz)
	r.Get(PathMonitor, s.monitor)
	r.HandleFunc(PathPing, ping)
	r.Get(PathOpenAPI, openAPI) // public: no Origin check, no authentication
	if s.cfg.WebSocket != nil {
		r.Method(http.MethodGet, PathWebSocket, s.cfg.WebSocket)
	}
	if s.cfg.SSE != nil {
		r.Method(http.MethodGet, PathSSE, s.cfg.SSE)
		// A cross-origin EventSource reader that sends its token in a
		// header (the browser client's fetch) asks first.
		r.With(s.cors).Options(PathSSE, preflight)
	}

	r.Group(func(r chi.Router) {
		r.Use(s.cors)
		// Authentication first: only verified principals and publisher
		// tokens reach a rate limiter, so refused callers can neither fill a
		// limiter nor spend someone else's allowance.
		user := r.With(s.authenticate, s.limit(s.restLimit, principalKey))
		user.Get(PathContext, s.chatContext)
		r.Options(PathContext, preflight)
		user.Get(PathNotifications, s.notifications)
		r.Options(PathNotifications, preflight)
		if s.cfg.Inbox != nil {
			user.Get(PathInbox, s.inbox)
			user.Get(PathInboxCount, s.inboxCount)
			user.Post(PathInboxRead, s.inboxRead)
			user.Post(PathInboxUnread, s.inboxUnread)
			user.Post(PathInboxSeen, s.inboxSeen)
			user.Get(PathInboxPreferences, s.inboxPrefs)
			user.Put(PathInboxPreferences, s.putInboxPrefs)
			for _, p := range []string{PathInbox, PathInboxCount, PathInboxRead, PathInboxUnread, PathInboxSeen, PathInboxPreferences} {
				r.Options(p, preflight)
			}
		}
		// Publishing, updating and retracting share a bucket.
		publisher := r.With(s.authorizePublisher, s.limit(s.publishLimit, publisherKey))
		if s.cfg.Publisher != nil {
			publisher.Post(PathMessages, s.postMessage)
			r.Options(PathMessages, preflight)
		}
		if s.cfg.Editor != nil {
			publisher.Patch(PathMessage, s.patchMessage)
			publisher.Delete(PathMessage, s.deleteMessage)
			r.Options(PathMessage, preflight)
		}
		if s.cfg.Spaces != nil {
			s.spaceRoutes(r)
		}
		if s.cfg.Webhooks != nil {
			s.webhookRoutes(r)
		}
		if s.cfg.Revoker != nil {
			// A bucket of its own: a publish flood never delays a revocation.
			r.With(s.authorizePublisher, s.limit(s.adminLimit, publisherKey)).Post(PathAdminDisconnect, s.disconnect)
			r.Options(PathAdminDisconnect, preflight)
		}
	})
	return r
}
