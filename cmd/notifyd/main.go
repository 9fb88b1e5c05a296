// Command notifyd is the notification gateway: it subscribes to the PyAMS chat
// channel on Redis, fans messages out over websockets, stores per-site history
// and serves the REST API.
//
//	notifyd [flags]          run the service (flags fall back to NOTIFYD_* env)
//	notifyd token [flags]    print a signed test token
//	notifyd listen [flags]   print the notifications a principal receives
//	notifyd version          print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/redis/go-redis/v9"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is main without process globals, so tests can drive it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "token":
			if err := runToken(args[1:], getenv, stdout, stderr); err != nil {
				if !errors.Is(err, flag.ErrHelp) {
					fmt.Fprintln(stderr, "notifyd:", err)
				}
				return 2
			}
			return 0
		case "listen":
			if err := runListen(ctx, args[1:], getenv, stdout, stderr); err != nil {
				if !errors.Is(err, flag.ErrHelp) {
					fmt.Fprintln(stderr, "notifyd:", err)
				}
				return 2
			}
			return 0
		case "version":
			fmt.Fprintln(stdout, "notifyd", version)
			return 0
		}
	}
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "notifyd: configuration:", err)
		return 2
	}
	// go-redis logs through a process-wide logger; route it to the JSON log.
	redis.SetLogger(redisLogger{log: slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))})
	if err := serve(ctx, cfg, stderr, nil); err != nil {
		fmt.Fprintln(stderr, "notifyd:", err)
		return 1
	}
	return 0
}
