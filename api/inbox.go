package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/message"
)

// announceTimeout bounds a call to Config.InboxEvents. The call does not
// follow the request's cancellation: the state changed, so the other
// connections must hear of it even when the caller has gone.
const announceTimeout = 5 * time.Second

// reader returns who reads on this request: its site (as for GET
// /api/chat/notifications: the Origin, else the host parameter, else the
// default site), the token's sub (the owner of read state and preferences)
// and its principals.
func (s *server) reader(r *http.Request) (history.Reader, error) {
	host := s.cfg.Sites.Of(r)
	switch {
	case host == "":
		return history.Reader{}, errNoSite
	case len(host) > maxSiteBytes: // the site names Redis keys
		return history.Reader{}, errBadSite
	}
	id, _ := IdentityFrom(r.Context())
	if err := id.CheckSite(host); err != nil { // a site-bound token used for another site
		return history.Reader{}, err
	}
	return history.Reader{Host: host, User: id.Principal, Principals: id.Principals}, nil
}

// inboxRequest returns the caller's reader and the request's body, at
// most MaxInboxBodyBytes.
func (s *server) inboxRequest(w http.ResponseWriter, r *http.Request) (history.Reader, []byte, error) {
	rd, err := s.reader(r)
	if err != nil {
		return rd, nil, err
	}
	body, err := readBody(w, r, MaxInboxBodyBytes)
	return rd, body, err
}

// inbox answers GET /api/inbox: a page of the caller's own inbox on the
// site, newest first (oldest first with after), each message in its push
// form with "read", and the caller's counts:
//
//	{"notifications":[{…,"read":false}],"unread":3,"unseen":1,"next":"<id>","gap":false}
func (s *server) inbox(w http.ResponseWriter, r *http.Request) {
	rd, err := s.reader(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	o, err := parseInboxQuery(r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page, err := s.cfg.Inbox.Page(r.Context(), rd, o)
	if err != nil {
		s.fail(w, r, storeFailure(err))
		return
	}
	writeRawJSON(w, http.StatusOK, appendInboxPage(nil, page))
}

// parseInboxQuery reads limit (1..history.MaxPage, default
// history.DefaultPage), before or after (an id; not both), unread (true or
// false) and category. The first value of a repeated parameter counts.
func parseInboxQuery(v url.Values) (history.PageOptions, error) {
	o := history.PageOptions{Before: v.Get("before"), After: v.Get("after"), Category: v.Get("category"), Counts: true}
	if s := v.Get("limit"); s != "" {
		n, ok := parseLimit(s, history.MaxPage)
		if !ok {
			return o, errBadLimit
		}
		o.Limit = n
	}
	switch {
	case o.Before != "" && o.After != "",
		o.Before != "" && !validCursor(o.Before),
		o.After != "" && !validCursor(o.After):
		return o, errBadCursor
	case v.Has("category") && !validCategory(o.Category):
		return o, errBadCategory
	}
	if s := v.Get("unread"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return o, errBadUnread
		}
		o.UnreadOnly = b
	}
	return o, nil
}

// validCursor reports whether id may name a message: 1 to MaxIDLength
// printable ASCII bytes, no space. A well-formed id that names no message
// is the store's to answer.
func validCursor(id string) bool {
	if id == "" || len(id) > message.MaxIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

// appendInboxPage writes GET /api/inbox's answer from each message's push
// form (no target, nor the extra keys it names), without re-marshalling
// through encoding/json.
func appendInboxPage(dst []byte, p history.Page) []byte {
	dst = append(dst, `{"notifications":[`...)
	for i, it := range p.Items {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendInboxItem(dst, it)
	}
	dst = append(dst, `],"unread":`...)
	dst = strconv.AppendInt(dst, int64(p.Counts.Unread), 10)
	dst = append(dst, `,"unseen":`...)
	dst = strconv.AppendInt(dst, int64(p.Counts.Unseen), 10)
	dst = append(dst, `,"next":`...)
	if p.Next == "" {
		dst = append(dst, "null"...)
	} else {
		dst = appendJSONString(dst, p.Next)
	}
	dst = append(dst, `,"gap":`...)
	dst = strconv.AppendBool(dst, p.Gap)
	return append(dst, "}\n"...)
}

// appendInboxItem writes an item's push form with "read" added. An extra
// key "read" of the message gives way to it, so the object never holds the
// key twice.
func appendInboxItem(dst []byte, it history.Item) []byte {
	m := it.Message
	if _, ok := m.Extra["read"]; ok {
		m = m.Clone()
		delete(m.Extra, "read")
	}
	dst = m.AppendJSON(dst, false)
	dst = append(dst[:len(dst)-1], `,"read":`...) // AppendJSON ends with '}'
	dst = strconv.AppendBool(dst, it.Read)
	return append(dst, '}')
}

// appendJSONString appends s as a JSON string.
func appendJSONString(dst []byte, s string) []byte {
	b, _ := json.Marshal(s) // a string always marshals
	return append(dst, b...)
}

// inboxCount answers GET /api/inbox/count: {"unread":N,"unseen":M}, one
// cheap read for badges that poll.
func (s *server) inboxCount(w http.ResponseWriter, r *http.Request) {
	rd, err := s.reader(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.cfg.Inbox.Count(r.Context(), rd)
	if err != nil {
		s.fail(w, r, storeFailure(err))
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// changeCounts runs one change of the caller's read state (change reads
// the request's body, already decoded into the closure), answers the new
// counts and announces them to the caller's other connections.
func (s *server) changeCounts(w http.ResponseWriter, r *http.Request, decode func(body []byte) (func(context.Context, history.Reader) (history.Counts, error), error)) {
	rd, body, err := s.inboxRequest(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	change, err := decode(body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := change(r.Context(), rd)
	if err != nil {
		s.fail(w, r, storeFailure(err))
		return
	}
	s.announceCounts(r, rd, c)
	writeJSON(w, http.StatusOK, c)
}

// inboxRead answers POST /api/inbox/read {"ids":[…]} or {"all":true}.
func (s *server) inboxRead(w http.ResponseWriter, r *http.Request) {
	s.changeCounts(w, r, func(body []byte) (func(context.Context, history.Reader) (history.Counts, error), error) {
		members, err := decodeMembers(body, "ids", "all")
		if err != nil {
			return nil, err
		}
		all, err := decodeAll(members["all"])
		if err != nil {
			return nil, err
		}
		_, hasIDs := members["ids"]
		switch {
		case all && hasIDs, !all && !hasIDs:
			return nil, errBadReadRequest
		case all:
			return s.cfg.Inbox.MarkAllRead, nil
		}
		ids, err := decodeIDs(members["ids"], s.cfg.MaxInboxIDs)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, rd history.Reader) (history.Counts, error) {
			return s.cfg.Inbox.MarkRead(ctx, rd, ids)
		}, nil
	})
}

// inboxUnread answers POST /api/inbox/unread {"ids":[…]}.
func (s *server) inboxUnread(w http.ResponseWriter, r *http.Request) {
	s.changeCounts(w, r, func(body []byte) (func(context.Context, history.Reader) (history.Counts, error), error) {
		members, err := decodeMembers(body, "ids")
		if err != nil {
			return nil, err
		}
		ids, err := decodeIDs(members["ids"], s.cfg.MaxInboxIDs)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, rd history.Reader) (history.Counts, error) {
			return s.cfg.Inbox.MarkUnread(ctx, rd, ids)
		}, nil
	})
}

// inboxSeen answers POST /api/inbox/seen {"until":"<id>"}.
func (s *server) inboxSeen(w http.ResponseWriter, r *http.Request) {
	s.changeCounts(w, r, func(body []byte) (func(context.Context, history.Reader) (history.Counts, error), error) {
		members, err := decodeMembers(body, "until")
		if err != nil {
			return nil, err
		}
		var until string
		if raw, ok := members["until"]; !ok || json.Unmarshal(raw, &until) != nil || !validCursor(until) {
			return nil, errBadUntil
		}
		return func(ctx context.Context, rd history.Reader) (history.Counts, error) {
			return s.cfg.Inbox.MarkSeen(ctx, rd, until)
		}, nil
	})
}

// decodeAll reads the "all" member: absent, null or a boolean.
func decodeAll(raw json.RawMessage) (bool, error) {
	var all *bool
	if raw != nil {
		if err := json.Unmarshal(raw, &all); err != nil {
			return false, errBadReadRequest.with(err)
		}
	}
	return all != nil && *all, nil
}

// decodeIDs reads the "ids" member: 1 to max ids, duplicates dropped.
func decodeIDs(raw json.RawMessage, max int) ([]string, error) {
	var ids []string
	if raw == nil || json.Unmarshal(raw, &ids) != nil || len(ids) == 0 || len(ids) > max {
		return nil, badIDs(max)
	}
	seen := make(map[string]struct{}, len(ids))
	out := ids[:0]
	for _, id := range ids {
		if !validCursor(id) {
			return nil, badIDs(max)
		}
		if _, dup := seen[id]; !dup {
			seen[id] = struct{}{}
			out = append(out, id)
		}
	}
	return out, nil
}

// announceCounts tells every gateway the user's new counts; a failure is
// logged, never the caller's.
func (s *server) announceCounts(r *http.Request, rd history.Reader, c history.Counts) {
	if s.cfg.InboxEvents == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), announceTimeout)
	defer cancel()
	if err := s.cfg.InboxEvents.Counts(ctx, rd.Host, rd.User, c); err != nil {
		s.logAnnounceFailure(r, rd, "counts", err)
	}
}

// logAnnounceFailure logs an InboxEvents error: the change is made, only
// the other connections' live view lags until they read again.
func (s *server) logAnnounceFailure(r *http.Request, rd history.Reader, what string, err error) {
	s.log.LogAttrs(r.Context(), slog.LevelWarn, "api: inbox "+what+" not announced",
		slog.String("request_id", middleware.GetReqID(r.Context())),
		slog.String("host", rd.Host),
		slog.String("principal", rd.User),
		slog.String("err", err.Error()))
}
