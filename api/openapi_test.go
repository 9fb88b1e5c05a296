package api

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	"github.com/pb33f/libopenapi/datamodel/high/base"
)

// operations are the keys of an OpenAPI path item that are operations.
var operations = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// servedByDaemon is the extension marking a documented path that the
// daemon (cmd/notifyd) serves beside this router, and its one expected
// use: /metrics, which cmd/notifyd's end-to-end test validates.
const servedByDaemon = "x-notifyd-served-by"

// documentedRoutes returns "METHOD path" for every operation of the
// document, and the paths marked servedByDaemon apart.
func documentedRoutes(tb testing.TB) (routes, daemon []string) {
	tb.Helper()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	decodeJSON(tb, OpenAPI, &doc)
	for path, item := range doc.Paths {
		if _, ok := item[servedByDaemon]; ok {
			daemon = append(daemon, path)
			continue
		}
		for key := range item {
			if slices.Contains(operations, key) {
				routes = append(routes, strings.ToUpper(key)+" "+path)
			}
		}
	}
	slices.Sort(routes)
	return routes, daemon
}

// fullConfig turns on every optional route.
func fullConfig(c *Config) {
	st := newMemInbox()
	c.Inbox, c.Editor, c.InboxEvents = st, st, &recordingEvents{}
	c.Revoker = &fakeRevoker{at: revokedAt}
	c.Spaces, c.Webhooks = &fakeSpaces{}, &fakeWebhooks{}
	c.WebSocket = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusSwitchingProtocols) })
	c.SSE = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
}

// TestOpenAPIMatchesRouter: every route the router serves (with every
// optional route on) is in openapi.json, and every operation there is
// served. Preflights (OPTIONS) are documented like any route. The only
// exceptions are CONNECT and QUERY /chat-ping: the route answers every
// method chi knows, and OpenAPI 3.1 has no operation for either.
func TestOpenAPIMatchesRouter(t *testing.T) {
	t.Parallel()
	h, err := New(testConfig(t, io.Discard, fullConfig))
	if err != nil {
		t.Fatal(err)
	}
	var served []string
	err = chi.Walk(h.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if (method == http.MethodConnect || method == "QUERY") && route == PathPing {
			return nil
		}
		served = append(served, method+" "+route)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(served)
	documented, daemon := documentedRoutes(t)
	for _, r := range served {
		if _, found := slices.BinarySearch(documented, r); !found {
			t.Errorf("%s is served but not in api/openapi.json", r)
		}
	}
	for _, r := range documented {
		if _, found := slices.BinarySearch(served, r); !found {
			t.Errorf("%s is in api/openapi.json but not served", r)
		}
	}
	if !slices.Equal(daemon, []string{"/metrics"}) {
		t.Errorf("paths marked %s: %v, want only /metrics (checked by cmd/notifyd's end-to-end test)", servedByDaemon, daemon)
	}
}

// The validator of the embedded document, shared by the tests: built
// once, and used under a lock (its caches are not documented as safe for
// concurrent use).
var (
	specOnce = sync.OnceValues(func() (*spec, error) {
		doc, err := libopenapi.NewDocument(OpenAPI)
		if err != nil {
			return nil, err
		}
		v, errs := validator.NewValidator(doc, config.WithFormatAssertions())
		if len(errs) > 0 {
			return nil, errs[0]
		}
		model, err := doc.BuildV3Model()
		if err != nil {
			return nil, err
		}
		return &spec{v: v, errorSchema: model.Model.Components.Schemas.GetOrZero("Error").Schema()}, nil
	})
)

type spec struct {
	mu          sync.Mutex
	v           validator.Validator
	errorSchema *base.Schema
}

func openAPISpec(tb testing.TB) *spec {
	tb.Helper()
	s, err := specOnce()
	if err != nil {
		tb.Fatalf("api/openapi.json: %v", err)
	}
	return s
}

// TestOpenAPIDocumentValid: the document is valid OpenAPI 3.1.
func TestOpenAPIDocumentValid(t *testing.T) {
	t.Parallel()
	s := openAPISpec(t)
	s.mu.Lock()
	defer s.mu.Unlock()
	if ok, errs := s.v.ValidateDocument(); !ok {
		for _, e := range errs {
			t.Errorf("api/openapi.json: %v", e)
		}
	}
}

// validate fails tb unless res (with its body already read as body)
// answers req as the document says: a documented status, its headers, its
// body's schema. With request set it checks the request as well.
func (s *spec) validate(tb testing.TB, req *http.Request, reqBody string, res *http.Response, body []byte, request bool) {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	res.Body = io.NopCloser(strings.NewReader(string(body)))
	ok, errs := s.v.ValidateHttpResponse(req, res)
	if request {
		req.Body = io.NopCloser(strings.NewReader(reqBody))
		okReq, reqErrs := s.v.ValidateHttpRequestSync(req)
		ok, errs = ok && okReq, append(errs, reqErrs...)
	}
	if !ok {
		for _, e := range errs {
			tb.Errorf("%s %s → %d %s: %s: %s%s", req.Method, req.URL.RequestURI(), res.StatusCode, body, e.Message, e.Reason, schemaErrors(e.SchemaValidationErrors))
		}
	}
}

// validateError fails tb unless body is the document's Error object: for
// the 404 and 405 of paths and methods the document does not list.
func (s *spec) validateError(tb testing.TB, body []byte) {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if ok, errs := schema_validation.NewSchemaValidator().ValidateSchemaBytes(s.errorSchema, body); !ok {
		for _, e := range errs {
			tb.Errorf("%s: %s: %s%s", body, e.Message, e.Reason, schemaErrors(e.SchemaValidationErrors))
		}
	}
}

func schemaErrors[E interface{ Error() string }](errs []E) string {
	var b strings.Builder
	for _, e := range errs {
		b.WriteString("\n\t" + e.Error())
	}
	return b.String()
}

// TestOpenAPIValidatorRejects: the validator does reject answers that
// break the document, so that the tests that pass through it mean
// something.
func TestOpenAPIValidatorRejects(t *testing.T) {
	t.Parallel()
	s := openAPISpec(t)
	cases := []struct {
		name, method, path string
		status             int
		header             http.Header
		body               string
	}{
		{"undocumented status", "GET", PathHealthz, http.StatusTeapot, nil, `{"status":"OK"}`},
		{"missing member", "GET", PathInboxCount, 200, nil, `{"unread":1}`},
		{"extra member", "GET", PathInboxCount, 200, nil, `{"unread":1,"unseen":0,"total":3}`},
		{"target in a push form", "GET", PathNotifications, 200, nil,
			`{"timestamp":"2025-01-18T17:21:00.000000+00:00","notifications":[{"host":"https://a.example","channel":"c","action":"notify",` +
				`"category":"c","status":"info","title":"t","message":"m","image":null,"source":{"id":"s","title":"S"},"target":{"principals":["p"]},` +
				`"url":null,"modal":false,"timestamp":"2025-01-18T17:20:54.123456+00:00","id":"I1"}],"gap":false,"more":false}`},
		{"bad timestamp", "POST", PathMessages, 202, nil, `{"status":"success","id":"I1","timestamp":"yesterday"}`},
		{"429 without Retry-After", "GET", PathContext, 429, nil, `{"status":"error","message":"rate limit exceeded"}`},
		{"error with a code", "GET", PathContext, 401, http.Header{"Www-Authenticate": {"Bearer"}}, `{"status":"error","message":"m","code":40101}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, "http://notifyd.test"+c.path, nil)
			h := http.Header{"Content-Type": {"application/json"}}
			for k, v := range c.header {
				h[k] = v
			}
			res := &http.Response{StatusCode: c.status, Header: h, Body: io.NopCloser(strings.NewReader(c.body))}
			s.mu.Lock()
			defer s.mu.Unlock()
			if ok, _ := s.v.ValidateHttpResponse(req, res); ok {
				t.Errorf("%s %s → %d %s accepted", c.method, c.path, c.status, c.body)
			}
		})
	}
}
