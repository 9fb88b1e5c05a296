package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	validatorconfig "github.com/pb33f/libopenapi-validator/config"
)

// openAPIClient drives a gateway and validates every answer against the
// OpenAPI document that the gateway itself serves at /api/openapi.json.
type openAPIClient struct {
	t *testing.T
	g *gateway
	v validator.Validator
}

func newOpenAPIClient(t *testing.T, g *gateway) *openAPIClient {
	t.Helper()
	resp := get(t, g.url("/api/openapi.json"), "")
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/openapi.json: %d %s", resp.StatusCode, raw)
	}
	doc, err := libopenapi.NewDocument(raw)
	if err != nil {
		t.Fatal(err)
	}
	v, errs := validator.NewValidator(doc, validatorconfig.WithFormatAssertions())
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}
	return &openAPIClient{t: t, g: g, v: v}
}

// do sends a request (headers are name, value pairs), checks its status
// and validates the answer; it returns the decoded JSON body, if any.
func (c *openAPIClient) do(method, path, body string, status int, headers ...string) map[string]any {
	c.t.Helper()
	req, err := http.NewRequest(method, c.g.url(path), bytes.NewReader([]byte(body)))
	if err != nil {
		c.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		c.t.Fatal(err)
	}
	if resp.StatusCode != status {
		c.t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, status, raw)
	}
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	if ok, errs := c.v.ValidateHttpResponse(req, resp); !ok {
		for _, e := range errs {
			c.t.Errorf("%s %s → %d %s: %s: %s", method, path, status, raw, e.Message, e.Reason)
			for _, se := range e.SchemaValidationErrors {
				c.t.Errorf("\t%s", se.Error())
			}
		}
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return out
}

// The daemon against its own OpenAPI document: a publisher and a user go
// through publish, the PyAMS list, the inbox, read state, counts,
// preferences, update, retract and the usual errors, and every answer is
// validated with libopenapi-validator.
func TestOpenAPIEndToEnd(t *testing.T) {
	g := startGateway(t, nil)
	c := newOpenAPIClient(t, g)
	bob := token(t, "users:bob", "role:reviewer")
	asBob := []string{"Authorization", "Bearer " + bob, "Origin", testSite}
	asPublisher := []string{"Authorization", "Bearer " + publisherToken}

	c.do("GET", "/healthz", "", 200)
	c.do("GET", "/readyz", "", 200)
	c.do("GET", "/monitor", "", 200)
	c.do("GET", "/chat-ping", "", 200)
	c.do("GET", "/metrics", "", 200)
	c.do("GET", "/api/chat/context", "", 200, asBob...)

	msg := `{"host":"` + testSite + `","action":"notify","category":"test","title":"one","message":"m",` +
		`"source":{"id":"users:system","title":"System"},"target":{"principals":["users:bob"]}}`
	first := c.do("POST", "/api/chat/messages", msg, 202, append(asPublisher, "Idempotency-Key", "e2e-1")...)["id"].(string)
	c.do("POST", "/api/chat/messages", msg, 202, append(asPublisher, "Idempotency-Key", "e2e-1")...)
	c.do("POST", "/api/chat/messages", strings.Replace(msg, `"one"`, `"other"`, 1), 422, append(asPublisher, "Idempotency-Key", "e2e-1")...)
	second := publishTo(t, g, "two", "role:reviewer")

	if page := c.do("GET", "/api/chat/notifications?limit=1", "", 200, asBob...); page["more"] != true {
		t.Fatalf("notifications?limit=1: %v", page)
	}
	c.do("GET", "/api/chat/notifications?since="+first, "", 200, asBob...)
	if page := c.do("GET", "/api/inbox?limit=1", "", 200, asBob...); page["next"] != second {
		t.Fatalf("inbox?limit=1: %v", page)
	}
	c.do("GET", "/api/inbox?after="+first, "", 200, asBob...)
	c.do("POST", "/api/inbox/read", `{"ids":["`+first+`"]}`, 200, asBob...)
	c.do("POST", "/api/inbox/unread", `{"ids":["`+first+`"]}`, 200, asBob...)
	c.do("POST", "/api/inbox/seen", `{"until":"`+second+`"}`, 200, asBob...)
	c.do("POST", "/api/inbox/read", `{"all":true}`, 200, asBob...)
	if counts := c.do("GET", "/api/inbox/count", "", 200, asBob...); counts["unread"] != 0.0 {
		t.Fatalf("count after read all: %v", counts)
	}
	c.do("PUT", "/api/inbox/preferences", `{"muted":["site.*"]}`, 200, asBob...)
	c.do("GET", "/api/inbox/preferences", "", 200, asBob...)

	c.do("PATCH", "/api/chat/messages/"+first+"?host="+testSite, `{"title":"one, edited","image":null}`, 200, asPublisher...)
	c.do("DELETE", "/api/chat/messages/"+first+"?host="+testSite, "", 200, asPublisher...)
	c.do("DELETE", "/api/chat/messages/"+first+"?host="+testSite, "", 404, asPublisher...)
	c.do("OPTIONS", "/api/inbox", "", 204, "Origin", testSite, "Access-Control-Request-Method", "GET")

	// Errors.
	c.do("GET", "/api/inbox", "", 401, "Origin", testSite)
	c.do("GET", "/api/inbox", "", 403, "Authorization", "Bearer "+bob, "Origin", "https://evil.example")
	c.do("GET", "/api/inbox?before=x&after=y", "", 400, asBob...)
	c.do("POST", "/api/chat/messages", `{"host":"`+testSite+`"}`, 400, asPublisher...)
	c.do("POST", "/api/chat/messages", msg, 403, "Authorization", "Bearer "+bob)
	c.do("POST", "/api/admin/disconnect", `{"principal":"users:carol"}`, 200, asPublisher...)
	c.do("GET", "/ws/chat", "", 426, "Origin", testSite)
	c.do("GET", "/ws/chat", "", 403, "Origin", "https://evil.example", "Connection", "Upgrade", "Upgrade", "websocket",
		"Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
}
