package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// Route paths served by the router.
const (
	PathContext       = "/api/chat/context"
	PathNotifications = "/api/chat/notifications"
	PathMessages      = "/api/chat/messages"
	PathHealthz       = "/healthz"
	PathReadyz        = "/readyz"
	PathMonitor       = "/monitor"
	PathPing          = "/chat-ping"
	PathWebSocket     = "/ws/chat"
)

// server holds the handlers' shared state.
type server struct {
	// immutable after New
	cfg Config
	log *slog.Logger
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
		if s.cfg.Publisher != nil {
			r.With(s.authorizePublisher).Post(PathMessages, s.postMessage)
			r.Options(PathMessages, preflight)
		}
	})
	return r
}
