package api

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/notifyd/notifyd/internal/limit"
)

// Route paths served by the router.
const (
	PathContext       = "/api/chat/context"
	PathNotifications = "/api/chat/notifications"
	PathMessages      = "/api/chat/messages"
	// PathAdminDisconnect revokes a principal's tokens and closes its
	// websockets (POST, publisher token).
	PathAdminDisconnect = "/api/admin/disconnect"
	PathHealthz         = "/healthz"
	PathReadyz          = "/readyz"
	PathMonitor         = "/monitor"
	PathPing            = "/chat-ping"
	PathWebSocket       = "/ws/chat"
)

// server holds the handlers' shared state.
type server struct {
	// immutable after New
	cfg Config
	log *slog.Logger

	// publishLimit holds one token bucket per publisher token; it is safe
	// for concurrent use and disabled when Config.PublishRate is negative.
	publishLimit *limit.Keyed
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
	case math.IsNaN(cfg.PublishRate) || math.IsInf(cfg.PublishRate, 0):
		return nil, fmt.Errorf("api: Config.PublishRate is not finite: %v", cfg.PublishRate)
	case cfg.PublishBurst < 0:
		return nil, fmt.Errorf("api: Config.PublishBurst is negative: %d", cfg.PublishBurst)
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
	if cfg.PublishRate == 0 {
		cfg.PublishRate = DefaultPublishRate
	}
	if cfg.PublishBurst == 0 {
		cfg.PublishBurst = DefaultPublishBurst
	}
	s := &server{cfg: cfg, log: cfg.Logger}
	// A negative rate disables the limiter (limit.Keyed allows everything).
	s.publishLimit = limit.New(limit.Config{Rate: cfg.PublishRate, Burst: cfg.PublishBurst, Now: cfg.Now})
	return s.routes(), nil
}

func (s *server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.RequestID, s.recoverer)
	// Set before Route so that the /api subrouter inherits them.
	r.NotFound(func(w http.ResponseWriter, r *http.Request) { s.fail(w, r, errNotFound) })
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) { s.fail(w, r, errMethodNotAllowed) })

	r.Get(PathHealthz, s.healthz)
	r.Get(PathReadyz, s.readyz)
	r.Get(PathMonitor, s.monitor)
	r.HandleFunc(PathPing, ping)
	if s.cfg.WebSocket != nil {
		r.Method(http.MethodGet, PathWebSocket, s.cfg.WebSocket)
	}

	r.Group(func(r chi.Router) {
		r.Use(s.cors)
		r.With(s.authenticate).Get(PathContext, s.chatContext)
		r.Options(PathContext, preflight)
		r.With(s.authenticate).Get(PathNotifications, s.notifications)
		r.Options(PathNotifications, preflight)
		// Authorization first: only publisher tokens reach the rate limiter.
		publisher := r.With(s.authorizePublisher, s.limitPublisher)
		if s.cfg.Publisher != nil {
			publisher.Post(PathMessages, s.postMessage)
			r.Options(PathMessages, preflight)
		}
		if s.cfg.Revoker != nil {
			publisher.Post(PathAdminDisconnect, s.disconnect)
			r.Options(PathAdminDisconnect, preflight)
		}
	})
	return r
}
