// Command notifyd is the notification gateway: it subscribes to the PyAMS chat
// channel on Redis, fans messages out over websockets, stores per-site history
// and serves the REST API.
//
//	notifyd [flags]          run the service (flags fall back to NOTIFYD_* env, then -config FILE)
//	notifyd config ...       check a configuration, print the defaults or the README table
//	notifyd token [flags]    print a signed token (HS*, RS*, PS*, ES*, EdDSA)
//	notifyd publish [flags]  publish a notification through the HTTP API
//	notifyd tail [flags]     print the live stream of a principal (alias: listen)
//	notifyd health           exit 0 when the local gateway is ready
//	notifyd version          print the version
//	notifyd help             list the commands and flags
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

// usage is what `notifyd help` and `notifyd -h` print before the flags.
const usage = `notifyd: real-time notification gateway (PyAMS chat compatible)

Usage:
  notifyd [flags]          run the service (every flag falls back to its NOTIFYD_* variable,
                           then to the YAML file named by -config / NOTIFYD_CONFIG, then to its default)
  notifyd config check [-config FILE] [flags]
                           validate the configuration without connecting and print it, with the
                           source of each value and secrets masked (exit 0 valid, 2 invalid)
  notifyd config defaults  print a configuration file with every setting at its default
  notifyd config table     print the README's configuration table
  notifyd token [flags]    print a token the gateway accepts: HS* with the secret, or RS*, PS*, ES*,
                           EdDSA with -alg and -key (notifyd token -h)
  notifyd publish [flags]  publish a notification through the HTTP API with a publisher token, from
                           flags or a JSON document on stdin (-json -) (notifyd publish -h)
  notifyd tail [flags]     print the live stream of a principal, one JSON line each: notifications,
                           inbox counts, updates, retracts (alias: listen) (notifyd tail -h)
  notifyd health [-url U]  exit 0 when the local gateway is ready (container health checks)
  notifyd version          print the version (also -version, --version)
  notifyd help             this text

Flags of the service:
`

// run is main without process globals, so tests can drive it. Exit codes:
// 0 success (and help), 1 a failure while running, 2 a usage or
// configuration error.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		sub := map[string]func() error{
			"config": func() error { return runConfig(ctx, args[1:], getenv, stdout, stderr) },
			"token":  func() error { return runToken(args[1:], getenv, stdout, stderr) },
			"publish": func() error {
				return runPublish(ctx, args[1:], getenv, os.Stdin, stdout, stderr)
			},
			"listen": func() error { return runListen(ctx, args[1:], getenv, stdout, stderr) },
			"tail":   func() error { return runListen(ctx, args[1:], getenv, stdout, stderr) },
			"health": func() error { return runHealth(ctx, args[1:], getenv, stdout, stderr) },
		}
		switch args[0] {
		case "version", "-version", "--version":
			fmt.Fprintln(stdout, "notifyd", version)
			return 0
		case "help", "-h", "-help", "--help":
			fmt.Fprint(stdout, usage)
			_, _ = parseConfig([]string{"-h"}, getenv, stdout)
			return 0
		}
		if f, ok := sub[args[0]]; ok {
			return exitCode(f(), stderr)
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
	return exitCode(serve(ctx, cfg, stderr, nil), stderr)
}

// configError marks an error in the configuration found after parsing (a
// key file, a rules file, an origin): it exits 2 like a flag error.
type configError struct{ err error }

func (e configError) Error() string { return e.err.Error() }
func (e configError) Unwrap() error { return e.err }

// exitCode prints err and maps it to the process exit code.
func exitCode(err error, stderr io.Writer) int {
	var ce configError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ce):
		fmt.Fprintln(stderr, "notifyd: configuration:", err)
		return 2
	default:
		fmt.Fprintln(stderr, "notifyd:", err)
		return 1
	}
}

// usagef is a subcommand's usage error: it exits 2.
func usagef(format string, args ...any) error { return configError{fmt.Errorf(format, args...)} }

// parseFlags parses a subcommand's flags; a bad flag exits 2 (the flag
// package has printed why), -h exits 0.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return configError{err}
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}
