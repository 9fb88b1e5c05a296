package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/client"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/protocol"
)

// runListen implements `notifyd tail` (and its alias `notifyd listen`): a
// websocket client that prints every frame of a principal's live stream,
// notifications and inbox counts alike, one JSON document per line,
// reconnecting with since like a well-behaved client. It is for trying
// notifyd out and for scripts.
func runListen(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("notifyd listen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "ws://localhost:8080/ws/chat", "gateway websocket endpoint")
	origin := fs.String("origin", "http://localhost:8080", "Origin header: the site to listen to")
	token := fs.String("token", "", "token to present (default: mint one for -sub with NOTIFYD_JWT_SECRET)")
	sub := fs.String("sub", "", "principal to mint a token for when -token is empty")
	principals := fs.String("principals", "", "comma-separated extra principals of the minted token")
	since := fs.String("since", "", "id of the last message already seen: replay what follows")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	tokens, err := listenTokens(*token, *sub, *principals, getenv)
	if err != nil {
		return err
	}
	c, err := client.New(client.Config{
		URL: *url, Origin: *origin, Since: *since,
		Token: tokens,
		OnConnect: func(url string) {
			fmt.Fprintf(stderr, "listen: connected to %s as the site %s; waiting for notifications (Ctrl-C stops)\n", url, *origin)
		},
		OnDisconnect: func(url string, err error) {
			fmt.Fprintf(stderr, "listen: disconnected from %s: %v; reconnecting with since\n", url, err)
		},
		OnMessage: func(_ *message.Message, raw []byte) {
			fmt.Fprintln(stdout, strings.TrimSpace(string(raw)))
		},
		OnUpdate: func(_ *message.Message, raw []byte) {
			fmt.Fprintln(stdout, strings.TrimSpace(string(raw)))
		},
		OnInbox: func(c client.Counts) {
			printJSON(stdout, struct {
				Action string `json:"action"`
				client.Counts
			}{protocol.ActionInbox, c})
		},
		OnRetract: func(space, id string) {
			printJSON(stdout, struct {
				Action string `json:"action"`
				ID     string `json:"id"`
				Space  string `json:"space,omitempty"`
			}{protocol.ActionRetract, id, space})
		},
		OnActivity: func(a protocol.Activity) { printJSON(stdout, a) },
		OnMember:   func(m protocol.Member) { printJSON(stdout, m) },
		OnGap: func(since string) {
			fmt.Fprintf(stderr, "gap: %s is no longer kept; reload from GET /api/chat/notifications\n", since)
		},
		Logger: slog.New(slog.NewTextHandler(stderr, nil)),
	})
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if err := c.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("listen: %w", err)
	}
	return nil
}

// printJSON prints v as one JSON line.
func printJSON(w io.Writer, v any) {
	b, err := json.Marshal(v)
	if err == nil {
		fmt.Fprintln(w, string(b))
	}
}

// listenTokens returns the client's Token func: the given token, or, with
// -sub, a token minted with NOTIFYD_JWT_SECRET, minted anew whenever the
// gateway refused the previous one (expiry, revocation).
func listenTokens(token, sub, principals string, getenv func(string) string) (func(context.Context) (string, error), error) {
	if token != "" {
		return func(context.Context) (string, error) { return token, nil }, nil
	}
	secret := getenv("NOTIFYD_JWT_SECRET")
	if sub == "" || len(secret) < auth.MinSecretLength {
		return nil, usagef("listen: give -token, or -sub with NOTIFYD_JWT_SECRET set (in this terminal too)")
	}
	var current string
	return func(ctx context.Context) (string, error) {
		if current == "" || client.Refresh(ctx) {
			tok, err := auth.Mint([]byte(secret), sub, "", splitList(principals), time.Now(), 12*time.Hour)
			if err != nil {
				return "", fmt.Errorf("listen: %w", err)
			}
			current = tok
		}
		return current, nil
	}, nil
}
