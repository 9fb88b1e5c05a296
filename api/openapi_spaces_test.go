package api

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	"github.com/pb33f/libopenapi-validator/schema_validation"

	"github.com/notifyd/notifyd/space"
)

// spaceTypesTagged reports whether space.Space marshals with its
// documented JSON names (false for the temporary stub of package space).
func spaceTypesTagged() bool {
	b, err := json.Marshal(decodeAs[space.Space](spaceJSON))
	return err == nil && strings.Contains(string(b), `"members_count"`)
}

// joinHeaders concatenates lists of name, value pairs.
func joinHeaders(h ...[]string) []string {
	var out []string
	for _, x := range h {
		out = append(out, x...)
	}
	return out
}

// spaceOpenAPICases are the spaces and webhooks requests of
// TestOpenAPIResponses whose answers hold no space.Space or Invitation.
func spaceOpenAPICases(user, pub, origin []string) []openAPICase {
	with := joinHeaders
	bot := with(pub, []string{HeaderPrincipal, "bots:builder", HeaderTitle, "Build Bot"})
	send := `{"kind":"task","title":"Release","body":"ship it","thread":"M1","task":{"assignee":"users:bob","due":"2025-01-20T12:00:00Z","status":"open"},` +
		`"attachments":[{"name":"notes.pdf","url":"https://files.example/notes.pdf","size":3}]}`
	tooLarge := `{"title":"` + strings.Repeat("x", MaxSpaceBodyBytes) + `"}`
	return []openAPICase{
		{name: "space members", method: "GET", path: "/api/spaces/S1/members", headers: with(user, origin), status: 200, request: true},
		{name: "space members for a bot", method: "GET", path: "/api/spaces/S1/members?host=" + siteA, headers: bot, status: 200, request: true},
		{name: "add a space member", method: "POST", path: "/api/spaces/S1/members", headers: with(user, origin), body: `{"principal":"users:carol","moderator":true}`, status: 201, request: true},
		{name: "remove a space member", method: "DELETE", path: "/api/spaces/S1/members/users%3Abob", headers: with(user, origin), status: 204, request: true},
		{name: "delete a space", method: "DELETE", path: "/api/spaces/S1", headers: with(user, origin), status: 204, request: true},
		{name: "space messages", method: "GET", path: "/api/spaces/S1/messages?limit=5&before=M9&thread=M1", headers: with(user, origin), status: 200, request: true},
		{name: "send to a space", method: "POST", path: "/api/spaces/S1/messages", headers: with(user, origin), body: send, status: 201, request: true},
		{name: "a bot sends to a space", method: "POST", path: "/api/spaces/S1/messages", headers: bot, body: `{"kind":"chat","body":"hi"}`, status: 201, request: true},
		{name: "spaces without token", method: "GET", path: "/api/spaces", status: 401},
		{name: "spaces for another user", method: "GET", path: "/api/spaces", headers: with(user, []string{HeaderPrincipal, "users:bob"}), status: 403},
		{name: "spaces for a publisher naming no one", method: "GET", path: "/api/spaces", headers: pub, status: 400},
		{name: "send an unknown member", method: "POST", path: "/api/spaces/S1/messages", headers: user, body: `{"kind":"chat","sender":"x"}`, status: 400},
		{name: "rename too large", method: "PATCH", path: "/api/spaces/S1", headers: user, body: tooLarge, status: 413},
		{name: "space messages bad limit", method: "GET", path: "/api/spaces/S1/messages?limit=0", headers: user, status: 400},
		{name: "space preflight", method: "OPTIONS", path: "/api/spaces/S1/members/users%3Abob", headers: with(origin, []string{"Access-Control-Request-Method", "DELETE"}), status: 204, request: true},

		{name: "register a webhook", method: "POST", path: PathWebhooks, headers: pub, body: `{"url":"https://bot.example/hook","spaces":["S1"],"secret":"s"}`, status: 201, request: true},
		{name: "register a webhook for every space", method: "POST", path: PathWebhooks + "?host=" + siteA, headers: pub, body: `{"url":"https://bot.example/hook","spaces":"*","secret":"s"}`, status: 201, request: true},
		{name: "list webhooks", method: "GET", path: PathWebhooks, headers: pub, status: 200, request: true},
		{name: "delete a webhook", method: "DELETE", path: PathWebhooks + "/W1", headers: pub, status: 204, request: true},
		{name: "delete an unknown webhook", method: "DELETE", path: PathWebhooks + "/W1", headers: pub, status: 404, request: true},
		{name: "webhook of the wrong type", method: "POST", path: PathWebhooks, headers: pub, body: `{"url":1}`, status: 400},
		{name: "webhooks with a user JWT", method: "GET", path: PathWebhooks, headers: user, status: 403},
		{name: "webhooks without token", method: "DELETE", path: PathWebhooks + "/W1", status: 401},
		{name: "webhook preflight", method: "OPTIONS", path: PathWebhooks + "/W1", headers: with(origin, []string{"Access-Control-Request-Method", "DELETE"}), status: 204, request: true},
	}
}

// spaceShapedOpenAPICases answer a space.Space or a space.Invitation.
func spaceShapedOpenAPICases(user, pub, origin []string) []openAPICase {
	u, bot := joinHeaders(user, origin), joinHeaders(pub, []string{HeaderPrincipal, "bots:builder"})
	return []openAPICase{
		{name: "create a space", method: "POST", path: "/api/spaces", headers: u, body: `{"title":"Team","members":["users:bob"],"kind":"group"}`, status: 201, request: true},
		{name: "list spaces", method: "GET", path: "/api/spaces", headers: u, status: 200, request: true},
		{name: "get a space", method: "GET", path: "/api/spaces/S1", headers: u, status: 200, request: true},
		{name: "rename a space", method: "PATCH", path: "/api/spaces/S1", headers: u, body: `{"title":"New"}`, status: 200, request: true},
		{name: "direct space", method: "POST", path: "/api/spaces/direct/users%3Abob", headers: bot, status: 200, request: true},
		{name: "invite a guest", method: "POST", path: "/api/spaces/S1/guests", headers: u, body: `{"name":"John Doe"}`, status: 201, request: true},
	}
}

// TestOpenAPISpaceSchemas: the documented shapes of a space, a list of
// them and an invitation accept what the real types marshal to (the
// fakes' canonical JSON), and refuse a space without its id.
func TestOpenAPISpaceSchemas(t *testing.T) {
	t.Parallel()
	doc, err := libopenapi.NewDocument(OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatal(err)
	}
	schemas := model.Model.Components.Schemas
	check := func(name, body string, want bool) {
		t.Helper()
		ok, errs := schema_validation.NewSchemaValidator().ValidateSchemaBytes(schemas.GetOrZero(name).Schema(), []byte(body))
		if ok != want {
			t.Errorf("%s %s: valid %v, want %v%s", name, body, ok, want, schemaErrors(errs))
		}
	}
	check("Space", spaceJSON, true)
	check("SpaceList", `{"spaces":[`+spaceListJSON+`]}`, true)
	check("Space", strings.Replace(spaceListJSON, `"last_message":{`, `"last_message":null,"x":{`, 1), false)
	check("Space", strings.Replace(spaceJSON, `"id":"S1",`, ``, 1), false)
	check("Invitation", invitationJSON, true)
	check("SpaceMessage", marshal(t, fakeMessage()), true)
	check("WebhookRequest", `{"url":"https://b.example/","spaces":"all","secret":"s"}`, false)
}
