package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// runHealth implements `notifyd health`: GET /readyz of the local gateway,
// exit 0 when it answers 200. It is the health check of images that have no
// shell or curl (distroless).
func runHealth(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("notifyd health", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "readiness URL (default: /readyz on NOTIFYD_ADDR, else :8080, on loopback)")
	timeout := fs.Duration("timeout", 3*time.Second, "longest wait for the answer")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *url == "" {
		*url = localReadyURL(getenv("NOTIFYD_ADDR"))
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return usagef("health: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health: %s answered %d: %s", *url, resp.StatusCode, body)
	}
	_, err = fmt.Fprintf(stdout, "%s\n", body)
	return err
}

// localReadyURL is /readyz on the loopback address of listen address addr.
func localReadyURL(addr string) string {
	port := "8080"
	if _, p, err := net.SplitHostPort(addr); err == nil && p != "" {
		port = p
	}
	return "http://" + net.JoinHostPort("127.0.0.1", port) + "/readyz"
}
