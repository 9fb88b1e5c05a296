package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/notifyd/notifyd/api"
)

// adminServer is the admin listener (NOTIFYD_ADMIN_ADDR): metrics, health
// and profiling, for the operator's network only.
type adminServer struct {
	server   *http.Server
	listener net.Listener
}

// newAdminServer listens on addr and serves /metrics, the health routes of
// the public router (routes) and net/http/pprof.
func newAdminServer(addr string, metrics, routes http.Handler, log *slog.Logger) (*adminServer, error) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	for _, p := range []string{api.PathHealthz, api.PathReadyz} {
		mux.Handle("GET "+p, routes)
	}
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on NOTIFYD_ADMIN_ADDR %q: %w", addr, err)
	}
	return &adminServer{
		listener: ln,
		server: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 10 * time.Second,
			// no WriteTimeout: a CPU profile streams for its ?seconds=
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
	}, nil
}

// serve serves until shutdown; it returns nil once shut down.
func (a *adminServer) serve() error {
	if err := a.server.Serve(a.listener); err != http.ErrServerClosed {
		return err
	}
	return nil
}

func (a *adminServer) shutdown(ctx context.Context) error { return a.server.Shutdown(ctx) }
