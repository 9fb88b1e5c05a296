package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/protocol"
	"github.com/notifyd/notifyd/space"
)

// Spaces is the chat service the /api/spaces routes use (issue 10).
// *space.Service satisfies it.
type Spaces interface {
	Create(ctx context.Context, c space.Caller, title, kind string, members []string) (space.Space, error)
	List(ctx context.Context, c space.Caller) ([]space.Space, error)
	Get(ctx context.Context, c space.Caller, id string) (space.Space, error)
	Rename(ctx context.Context, c space.Caller, id, title string) (space.Space, error)
	Delete(ctx context.Context, c space.Caller, id string) error
	Members(ctx context.Context, c space.Caller, id string) ([]space.Member, error)
	AddMember(ctx context.Context, c space.Caller, id, principal string, moderator bool) (space.Member, error)
	RemoveMember(ctx context.Context, c space.Caller, id, principal string) error
	Direct(ctx context.Context, c space.Caller, other string) (space.Space, bool, error)
	Messages(ctx context.Context, c space.Caller, id, before string, limit int, thread string) ([]protocol.SpaceMessage, string, error)
	Send(ctx context.Context, c space.Caller, id string, m protocol.Send, o space.SendOptions) (protocol.SpaceMessage, error)
	Guest(ctx context.Context, c space.Caller, id, name string) (space.Invitation, error)
}

var _ Spaces = (*space.Service)(nil)

// Paths of the spaces routes.
const (
	PathSpaces       = "/api/spaces"
	PathSpace        = PathSpaces + "/{id}"
	PathSpaceMembers = PathSpace + "/members"
	PathSpaceMember  = PathSpaceMembers + "/{principal}"
	PathSpaceDirect  = PathSpaces + "/direct/{principal}"
	PathSpaceMsgs    = PathSpace + "/messages"
	PathSpaceGuests  = PathSpace + "/guests"
)

// HeaderPrincipal names the principal a publisher token acts for on the
// spaces routes (bots and backends); HeaderTitle its display name
// (default: the principal). A user's JWT may not name anyone else.
const (
	HeaderPrincipal = "X-Notifyd-Principal"
	HeaderTitle     = "X-Notifyd-Title"
)

// MaxSpaceBodyBytes bounds the body of a spaces route: a send carries up
// to 16 KiB of text plus its attachments.
const MaxSpaceBodyBytes = 64 << 10

var (
	errNoActAs       = &apiError{code: 40022, status: http.StatusBadRequest, message: "a publisher token must name the principal it acts for in " + HeaderPrincipal, field: HeaderPrincipal}
	errActAs         = &apiError{code: 40303, status: http.StatusForbidden, message: "a user token cannot act for another principal"}
	errSpaceNotFound = &apiError{code: 40403, status: http.StatusNotFound, message: "no such space or message"}
	errSpaceInvalid  = &apiError{code: 40023, status: http.StatusBadRequest, message: "invalid request"}
	errSpaceDenied   = &apiError{code: 40304, status: http.StatusForbidden, message: "only moderators (or the sender) may do this"}
	errSpaceEdit     = &apiError{code: 40026, status: http.StatusBadRequest, message: "a space message is edited through its space (the websocket edit command), where its sender is known", field: "category"}
	errSpaceDelete   = &apiError{code: 40027, status: http.StatusBadRequest, message: "a space message is deleted through its space (the websocket delete command or the space's API), where its sender and moderators are known", field: "category"}
	errSpaceCategory = &apiError{code: 40025, status: http.StatusBadRequest, message: `category "space" is reserved for space messages: send them with POST /api/spaces/{id}/messages`, field: "category"}
	errNoGuests      = &apiError{code: 50101, status: http.StatusNotImplemented, message: "guest invitations need a signing key (NOTIFYD_JWT_SECRET)"}
)

// spaceFailure maps a space error to the catalogue.
func spaceFailure(err error) error {
	switch {
	case errors.Is(err, space.ErrNotFound):
		return errSpaceNotFound.with(err)
	case errors.Is(err, space.ErrForbidden):
		return errSpaceDenied.with(err)
	case errors.Is(err, space.ErrInvalid):
		e := errSpaceInvalid.with(err)
		e.message = err.Error() // the service's words: the field and the reason
		return e
	case errors.Is(err, space.ErrRateLimited):
		return rateLimited(0).with(err)
	case errors.Is(err, space.ErrNotConfigured):
		return errNoGuests.with(err)
	}
	return errUnavailable.with(err)
}

// spaceRoutes mounts the spaces routes on r (inside the CORS group).
func (s *server) spaceRoutes(r chi.Router) {
	sr := r.With(s.spaceCaller)
	sr.Post(PathSpaces, s.createSpace)
	sr.Get(PathSpaces, s.listSpaces)
	sr.Post(PathSpaceDirect, s.directSpace)
	sr.Get(PathSpace, s.getSpace)
	sr.Patch(PathSpace, s.renameSpace)
	sr.Delete(PathSpace, s.deleteSpace)
	sr.Get(PathSpaceMembers, s.spaceMembers)
	sr.Post(PathSpaceMembers, s.addSpaceMember)
	sr.Delete(PathSpaceMember, s.removeSpaceMember)
	sr.Get(PathSpaceMsgs, s.spaceMessages)
	sr.Post(PathSpaceMsgs, s.sendSpaceMessage)
	sr.Post(PathSpaceGuests, s.inviteGuest)
	for _, p := range []string{PathSpaces, PathSpaceDirect, PathSpace, PathSpaceMembers, PathSpaceMember, PathSpaceMsgs, PathSpaceGuests} {
		r.Options(p, preflight)
	}
}

type callerKey struct{}

// spaceCaller authenticates a spaces request: a user JWT acts for its own
// principal (limited per principal, as the other user routes); a
// publisher token acts for the principal HeaderPrincipal names (limited
// per publisher token, as publishing). The site is the request's (Origin,
// else the host parameter, else the default site).
func (s *server) spaceCaller(next http.Handler) http.Handler {
	asUser := s.limit(s.restLimit, principalKey)(next)
	asPublisher := s.limit(s.publishLimit, publisherKey)(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := auth.BearerToken(r)
		if token == "" {
			s.fail(w, r, errAuthRequired)
			return
		}
		host := s.cfg.Sites.Of(r)
		switch {
		case host == "":
			s.fail(w, r, errNoSite)
			return
		case len(host) > maxSiteBytes:
			s.fail(w, r, errBadSite)
			return
		}
		actAs := r.Header.Get(HeaderPrincipal)
		if s.cfg.PublisherTokens.Check(token) {
			if actAs == "" || !validPrincipal(actAs) {
				s.fail(w, r, errNoActAs)
				return
			}
			title := r.Header.Get(HeaderTitle)
			if title == "" || !validPrincipal(title) || !utf8.ValidString(title) {
				title = actAs
			}
			c := space.Caller{Host: host, Principal: actAs, Title: title}
			ctx := context.WithValue(r.Context(), identityKey{}, auth.Identity{Principal: actAs, Title: title, Principals: []string{actAs}})
			asPublisher.ServeHTTP(w, r.WithContext(context.WithValue(ctx, callerKey{}, c)))
			return
		}
		id, err := s.cfg.Auth.Verify(r.Context(), token)
		if err != nil {
			s.fail(w, r, authFailure(err))
			return
		}
		if err := id.CheckSite(host); err != nil {
			s.fail(w, r, err)
			return
		}
		if actAs != "" && actAs != id.Principal {
			s.fail(w, r, errActAs)
			return
		}
		c := space.Caller{Host: host, Principal: id.Principal, Title: id.Title}
		ctx := context.WithValue(context.WithValue(r.Context(), identityKey{}, id), callerKey{}, c)
		asUser.ServeHTTP(w, r.WithContext(ctx))
	})
}

func callerOf(r *http.Request) space.Caller {
	c, _ := r.Context().Value(callerKey{}).(space.Caller)
	return c
}

// pathParam returns the unescaped path parameter name. chi matches the
// raw path when the request's path has escapes the default encoding would
// not write (users%3Abob), and the decoded path otherwise (users%2541 is
// then already users%41): only the raw form is unescaped, so that a value
// is never decoded twice.
func pathParam(r *http.Request, name string) string {
	v := chi.URLParam(r, name)
	if r.URL.RawPath == "" {
		return v
	}
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}

// decodeSpaceBody reads r's JSON body into v, strictly (unknown fields are
// 400).
func decodeSpaceBody(w http.ResponseWriter, r *http.Request, v any, names ...string) error {
	body, err := readBody(w, r, MaxSpaceBodyBytes)
	if err != nil {
		return err
	}
	if _, err := decodeMembers(body, names...); err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errMalformedBody.with(err)
	}
	return nil
}

// answer writes v with status, or the error.
func (s *server) answer(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		s.fail(w, r, spaceFailure(err))
		return
	}
	if v == nil {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, v)
}

func (s *server) createSpace(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Title   string   `json:"title"`
		Members []string `json:"members"`
		Kind    string   `json:"kind"`
	}
	if err := decodeSpaceBody(w, r, &body, "title", "members", "kind"); err != nil {
		s.fail(w, r, err)
		return
	}
	if body.Kind == "" {
		body.Kind = "group"
	}
	sp, err := s.cfg.Spaces.Create(r.Context(), callerOf(r), body.Title, body.Kind, body.Members)
	s.answer(w, r, http.StatusCreated, sp, err)
}

func (s *server) listSpaces(w http.ResponseWriter, r *http.Request) {
	list, err := s.cfg.Spaces.List(r.Context(), callerOf(r))
	if list == nil {
		list = []space.Space{}
	}
	s.answer(w, r, http.StatusOK, map[string]any{"spaces": list}, err)
}

func (s *server) directSpace(w http.ResponseWriter, r *http.Request) {
	sp, created, err := s.cfg.Spaces.Direct(r.Context(), callerOf(r), pathParam(r, "principal"))
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	s.answer(w, r, status, sp, err)
}

func (s *server) getSpace(w http.ResponseWriter, r *http.Request) {
	sp, err := s.cfg.Spaces.Get(r.Context(), callerOf(r), pathParam(r, "id"))
	s.answer(w, r, http.StatusOK, sp, err)
}

func (s *server) renameSpace(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Title string `json:"title"`
	}
	if err := decodeSpaceBody(w, r, &body, "title"); err != nil {
		s.fail(w, r, err)
		return
	}
	sp, err := s.cfg.Spaces.Rename(r.Context(), callerOf(r), pathParam(r, "id"), body.Title)
	s.answer(w, r, http.StatusOK, sp, err)
}

func (s *server) deleteSpace(w http.ResponseWriter, r *http.Request) {
	err := s.cfg.Spaces.Delete(r.Context(), callerOf(r), pathParam(r, "id"))
	s.answer(w, r, http.StatusNoContent, nil, err)
}

func (s *server) spaceMembers(w http.ResponseWriter, r *http.Request) {
	ms, err := s.cfg.Spaces.Members(r.Context(), callerOf(r), pathParam(r, "id"))
	if ms == nil {
		ms = []space.Member{}
	}
	s.answer(w, r, http.StatusOK, map[string]any{"members": ms}, err)
}

func (s *server) addSpaceMember(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Principal string `json:"principal"`
		Moderator bool   `json:"moderator"`
	}
	if err := decodeSpaceBody(w, r, &body, "principal", "moderator"); err != nil {
		s.fail(w, r, err)
		return
	}
	m, err := s.cfg.Spaces.AddMember(r.Context(), callerOf(r), pathParam(r, "id"), body.Principal, body.Moderator)
	s.answer(w, r, http.StatusCreated, m, err)
}

func (s *server) removeSpaceMember(w http.ResponseWriter, r *http.Request) {
	err := s.cfg.Spaces.RemoveMember(r.Context(), callerOf(r), pathParam(r, "id"), pathParam(r, "principal"))
	s.answer(w, r, http.StatusNoContent, nil, err)
}

func (s *server) spaceMessages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 0
	if v := q.Get("limit"); v != "" {
		n, ok := parseLimit(v, 200)
		if !ok {
			s.fail(w, r, errBadLimit)
			return
		}
		limit = n
	}
	before, thread := q.Get("before"), q.Get("thread")
	if (before != "" && !validCursor(before)) || (thread != "" && !validCursor(thread)) {
		s.fail(w, r, errBadCursor)
		return
	}
	msgs, next, err := s.cfg.Spaces.Messages(r.Context(), callerOf(r), pathParam(r, "id"), before, limit, thread)
	if msgs == nil {
		msgs = []protocol.SpaceMessage{}
	}
	s.answer(w, r, http.StatusOK, map[string]any{"messages": msgs, "next": next}, err)
}

func (s *server) sendSpaceMessage(w http.ResponseWriter, r *http.Request) {
	var body protocol.Send
	if err := decodeSpaceBody(w, r, &body, "kind", "body", "title", "thread", "attachments", "task"); err != nil {
		s.fail(w, r, err)
		return
	}
	m, err := s.cfg.Spaces.Send(r.Context(), callerOf(r), pathParam(r, "id"), body, space.SendOptions{Key: r.Header.Get("Idempotency-Key")})
	m.Action = ""
	s.answer(w, r, http.StatusCreated, m, err)
}

func (s *server) inviteGuest(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name string `json:"name"`
	}
	if err := decodeSpaceBody(w, r, &body, "name"); err != nil {
		s.fail(w, r, err)
		return
	}
	inv, err := s.cfg.Spaces.Guest(r.Context(), callerOf(r), pathParam(r, "id"), body.Name)
	s.answer(w, r, http.StatusCreated, inv, err)
}
