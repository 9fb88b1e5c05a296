package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// runPublish implements `notifyd publish`: it publishes one notification
// through the HTTP API with a publisher token, from flags or from a JSON
// document on stdin (-json -), and prints the answer ({"status","id",
// "timestamp"}). A refusal exits 1 with the server's message.
func runPublish(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("notifyd publish", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "http://localhost:8080", "base URL of a gateway")
	token := fs.String("token", "", "publisher token (default: NOTIFYD_PUBLISH_TOKEN, else the first of NOTIFYD_PUBLISH_TOKENS)")
	host := fs.String("host", "", "site of the notification (default: -url's origin)")
	jsonDoc := fs.String("json", "", "publish this JSON document as is; - reads it from stdin (the flags below are then ignored)")
	title := fs.String("title", "", "title (one line)")
	body := fs.String("message", "", "body text")
	category := fs.String("category", "notify", "category (selects the handler that computes the target when -target is empty)")
	targets := fs.String("target", "", "comma-separated target principals, e.g. users:alice,group:ops")
	status := fs.String("status", "info", "info, success, warning or danger")
	link := fs.String("link", "", "URL of the notification")
	source := fs.String("source", "notifyd:publish", "sender principal (source.id); its connections do not get the message")
	key := fs.String("idempotency-key", "", "Idempotency-Key: retries with the same key publish once")
	timeout := fs.Duration("timeout", 10*time.Second, "request timeout")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *token == "" {
		*token = getenv("NOTIFYD_PUBLISH_TOKEN")
	}
	if *token == "" {
		if list := splitList(getenv("NOTIFYD_PUBLISH_TOKENS")); len(list) > 0 {
			*token = list[0]
		}
	}
	if *token == "" {
		return usagef("publish: give -token, or set NOTIFYD_PUBLISH_TOKEN")
	}
	if *host == "" {
		*host = strings.TrimRight(*base, "/")
	}
	doc, err := publishDocument(*jsonDoc, stdin, *host, *title, *body, *category, *targets, *status, *link, *source)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(*base, "/")+"/api/chat/messages", bytes.NewReader(doc))
	if err != nil {
		return usagef("publish: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+*token)
	req.Header.Set("Content-Type", "application/json")
	if *key != "" {
		req.Header.Set("Idempotency-Key", *key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		var e struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(answer, &e)
		return fmt.Errorf("publish: %s: %s", resp.Status, cmpOr(e.Message, strings.TrimSpace(string(answer))))
	}
	_, err = fmt.Fprintln(stdout, strings.TrimSpace(string(answer)))
	return err
}

// publishDocument is the JSON to publish: jsonDoc (or stdin for "-"), or
// the message the flags describe.
func publishDocument(jsonDoc string, stdin io.Reader, host, title, body, category, targets, status, link, source string) ([]byte, error) {
	if jsonDoc != "" {
		doc := []byte(jsonDoc)
		if jsonDoc == "-" {
			var err error
			if doc, err = io.ReadAll(io.LimitReader(stdin, 16<<20)); err != nil {
				return nil, fmt.Errorf("publish: read stdin: %w", err)
			}
		}
		if !json.Valid(doc) {
			return nil, usagef("publish: -json is not valid JSON")
		}
		return doc, nil
	}
	if title == "" {
		return nil, usagef("publish: -title is required (or -json)")
	}
	m := map[string]any{"host": host, "action": "notify", "category": category, "status": status, "title": title, "message": body}
	if link != "" {
		m["url"] = link
	}
	m["source"] = map[string]string{"id": source, "title": source}
	if t := splitList(targets); len(t) > 0 {
		m["target"] = map[string]any{"principals": t}
	}
	return json.Marshal(m)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
