package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/webhook"
)

// Webhooks stores the outgoing webhooks of bots (issue 10).
// *webhook.Store satisfies it.
type Webhooks interface {
	Register(ctx context.Context, r webhook.Registration) (webhook.Registration, error)
	List(ctx context.Context, host, owner string) ([]webhook.Registration, error)
	Delete(ctx context.Context, host, owner, id string) error
}

var _ Webhooks = (*webhook.Store)(nil)

// Paths of the webhook routes (publisher token).
const (
	PathWebhooks = "/api/webhooks"
	PathWebhook  = PathWebhooks + "/{id}"
)

var (
	errWebhookInvalid = &apiError{code: 40024, status: http.StatusBadRequest, message: "invalid webhook"}
	errWebhookAddress = &apiError{code: 40305, status: http.StatusForbidden, message: "the webhook URL resolves to a loopback, private or link-local address"}
	errWebhookUnknown = &apiError{code: 40404, status: http.StatusNotFound, message: "no such webhook"}
	errWebhookTooMany = &apiError{code: 40901, status: http.StatusConflict, message: "this publisher token has as many webhooks as it may: delete one first"}
)

// webhookFailure maps a webhook error to the catalogue.
func webhookFailure(err error) error {
	switch {
	case errors.Is(err, webhook.ErrInvalid):
		e := errWebhookInvalid.with(err)
		e.message = err.Error()
		return e
	case errors.Is(err, webhook.ErrForbiddenAddress):
		return errWebhookAddress.with(err)
	case errors.Is(err, webhook.ErrNotFound):
		return errWebhookUnknown.with(err)
	case errors.Is(err, webhook.ErrTooMany):
		return errWebhookTooMany.with(err)
	}
	return errUnavailable.with(err)
}

// webhookRoutes mounts the webhook routes (publisher token, the publish
// bucket) on r.
func (s *server) webhookRoutes(r chi.Router) {
	pr := r.With(s.authorizePublisher, s.limit(s.publishLimit, publisherKey))
	pr.Post(PathWebhooks, s.registerWebhook)
	pr.Get(PathWebhooks, s.listWebhooks)
	pr.Delete(PathWebhook, s.deleteWebhook)
	r.Options(PathWebhooks, preflight)
	r.Options(PathWebhook, preflight)
}

// webhookOwner names the publisher token that owns a registration, without
// keeping the token: each token sees and deletes only its own.
func webhookOwner(r *http.Request) string { return limitKey(auth.BearerToken(r)) }

// webhookSite is the site of a webhook request.
func (s *server) webhookSite(r *http.Request) (string, error) {
	host := s.cfg.Sites.Of(r)
	switch {
	case host == "":
		return "", errNoSite
	case len(host) > maxSiteBytes:
		return "", errBadSite
	}
	return host, nil
}

// registerWebhook answers POST /api/webhooks
// {"url","spaces":["<id>"] or "*","secret"}: 201 with the registration
// (without its secret).
func (s *server) registerWebhook(w http.ResponseWriter, r *http.Request) {
	host, err := s.webhookSite(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	body, err := readBody(w, r, MaxInboxBodyBytes)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	members, err := decodeMembers(body, "url", "spaces", "secret")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var reg webhook.Registration
	if err := unmarshalField(members, "url", &reg.URL); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := unmarshalField(members, "secret", &reg.Secret); err != nil {
		s.fail(w, r, err)
		return
	}
	var all string
	if json.Unmarshal(members["spaces"], &all) == nil && all == "*" {
		reg.Spaces = []string{"*"}
	} else if err := unmarshalField(members, "spaces", &reg.Spaces); err != nil {
		s.fail(w, r, err)
		return
	}
	reg.Host, reg.Owner = host, webhookOwner(r)
	reg, err = s.cfg.Webhooks.Register(r.Context(), reg)
	if err != nil {
		s.fail(w, r, webhookFailure(err))
		return
	}
	writeJSON(w, http.StatusCreated, reg)
}

// unmarshalField decodes members[name] into v; a wrong type is 400 naming
// the field.
func unmarshalField(members map[string]json.RawMessage, name string, v any) error {
	raw, ok := members[name]
	if !ok {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		e := errWebhookInvalid.with(err)
		e.message, e.field = "field "+name+" has the wrong type", name
		return e
	}
	return nil
}

func (s *server) listWebhooks(w http.ResponseWriter, r *http.Request) {
	host, err := s.webhookSite(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list, err := s.cfg.Webhooks.List(r.Context(), host, webhookOwner(r))
	if err != nil {
		s.fail(w, r, webhookFailure(err))
		return
	}
	if list == nil {
		list = []webhook.Registration{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"webhooks": list})
}

func (s *server) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	host, err := s.webhookSite(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.cfg.Webhooks.Delete(r.Context(), host, webhookOwner(r), pathParam(r, "id")); err != nil {
		s.fail(w, r, webhookFailure(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
