package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/protocol"
)

// fixedFields are the members a PATCH may not change: what places the
// message (host, channel, id), who sent it and to whom (source, target),
// and what its indexes and order rest on (category, action, timestamp).
// "host" may be sent, to name the site, but not changed.
var fixedFields = []string{"action", "category", "channel", "id", "source", "target", "timestamp"}

// messagePatch is a decoded PATCH body: the new values, checked for type.
type messagePatch struct {
	host  string                     // the site the body names; "" when absent
	text  map[string]string          // title, message, status (non-null); url, image ("" for null)
	modal *bool                      // nil: unchanged
	extra map[string]json.RawMessage // extra keys; a nil value removes the key
}

// decodePatch reads a PATCH body: a JSON object of the members to change.
// A fixed member is 400 naming it; a member of the wrong type is an
// invalid message naming it; nothing to change is 400.
func decodePatch(body []byte) (messagePatch, error) {
	p := messagePatch{text: map[string]string{}, extra: map[string]json.RawMessage{}}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil || members == nil {
		return p, errMalformedBody.with(err)
	}
	names := make([]string, 0, len(members))
	for name := range members {
		names = append(names, name)
	}
	slices.Sort(names) // the same body always names the same faulty member
	for _, name := range names {
		raw := members[name]
		null := string(raw) == "null"
		switch {
		case slices.Contains(fixedFields, name):
			return p, fixedField(name)
		case name == "host":
			if json.Unmarshal(raw, &p.host) != nil || p.host == "" {
				return p, &message.FieldError{Field: name, Reason: "must be an origin such as https://example.com"}
			}
		case name == "title" || name == "message" || name == "status" ||
			name == "url" || name == "image":
			var v string
			if null && (name == "url" || name == "image") {
				p.text[name] = ""
			} else if json.Unmarshal(raw, &v) != nil || null {
				return p, &message.FieldError{Field: name, Reason: "must be a string"}
			} else {
				p.text[name] = v
			}
		case name == "modal":
			var v bool
			if json.Unmarshal(raw, &v) != nil {
				return p, &message.FieldError{Field: name, Reason: "must be a boolean"}
			}
			p.modal = &v
		case null:
			p.extra[name] = nil
		default:
			p.extra[name] = raw
		}
	}
	if len(p.text) == 0 && p.modal == nil && len(p.extra) == 0 {
		return p, errEmptyPatch
	}
	return p, nil
}

// apply changes m as p says, then validates it as a publish would. An
// extra key that is part of m's target (Target.Keys) is fixed like target.
func (p messagePatch) apply(m *message.Message) error {
	if m.Category == protocol.SpaceCategory { // its space decides who may edit it
		return errSpaceEdit
	}
	for name, v := range p.text {
		switch name {
		case "title":
			m.Title = v
		case "message":
			m.Body = v
		case "status":
			m.Status = v
		case "url":
			m.URL = v
		case "image":
			m.Image = v
		}
	}
	if p.modal != nil {
		m.Modal = *p.modal
	}
	keys := m.TargetKeys()
	for name, raw := range p.extra {
		if slices.Contains(keys, name) {
			return fixedField(name)
		}
		if raw == nil {
			delete(m.Extra, name)
			continue
		}
		if m.Extra == nil {
			m.Extra = map[string]json.RawMessage{}
		}
		m.Extra[name] = raw
	}
	return m.Validate() // the Editor checks the size it keeps
}

// patchMessage answers PATCH /api/chat/messages/{id}: the body's members
// change the stored message everywhere; the answer is its new push form.
// The site is the body's "host", else the host parameter, else the
// default site.
func (s *server) patchMessage(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if !validCursor(id) { // no message can have it
		s.fail(w, r, errInboxNotFound)
		return
	}
	body, err := readBody(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := decodePatch(body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	host, err := s.publisherSite(r, p.host)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	m, err := s.cfg.Editor.Update(r.Context(), host, id, p.apply)
	if err != nil {
		s.fail(w, r, storeFailure(err))
		return
	}
	s.logEdit(r, "api: message updated", host, id)
	writeRawJSON(w, http.StatusOK, append(m.PushJSON(), '\n'))
}

// retractedResponse answers a successful DELETE /api/chat/messages/{id}.
type retractedResponse struct {
	Status string `json:"status"`
	ID     string `json:"id"`
}

// deleteMessage answers DELETE /api/chat/messages/{id}?host=<site>: the
// message leaves every inbox and every open connection that may see it is
// told. A space message is refused (errSpaceDelete): it is deleted through
// its space, which knows its sender and moderators and keeps its own list.
func (s *server) deleteMessage(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if !validCursor(id) {
		s.fail(w, r, errInboxNotFound)
		return
	}
	host, err := s.publisherSite(r, "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.cfg.Editor.RetractUnless(r.Context(), host, id, protocol.SpaceCategory); err != nil {
		if errors.Is(err, history.ErrCategoryRefused) {
			err = errSpaceDelete.with(err)
		}
		s.fail(w, r, storeFailure(err))
		return
	}
	s.logEdit(r, "api: message retracted", host, id)
	writeJSON(w, http.StatusOK, retractedResponse{Status: "success", ID: id})
}

// publisherSite is the site a publisher's PATCH or DELETE names: the
// body's host, else the host parameter (both: they must agree), else the
// default site. It must be an origin.
func (s *server) publisherSite(r *http.Request, bodyHost string) (string, error) {
	host, param := bodyHost, r.URL.Query().Get("host")
	switch {
	case host != "" && param != "" && !strings.EqualFold(host, param):
		return "", errSiteMismatch
	case host == "":
		host = param
	}
	if host == "" {
		host = s.cfg.Sites.Default()
	}
	switch {
	case host == "":
		return "", errNoSite
	case len(host) > maxSiteBytes:
		return "", errBadSite
	}
	return host, message.ValidateHost(host)
}

// logEdit logs an update or a retraction at Debug, as publishing is.
func (s *server) logEdit(r *http.Request, msg, host, id string) {
	s.log.LogAttrs(r.Context(), slog.LevelDebug, msg,
		slog.String("request_id", middleware.GetReqID(r.Context())),
		slog.String("id", id),
		slog.String("host", host))
}
