package api

import (
	"context"
	"net/http"
	"slices"
	"strconv"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/site"
)

// maxSiteBytes is the longest site an origin can name (site.MaxLength).
const maxSiteBytes = site.MaxLength

// notifications answers GET /api/chat/notifications with the caller's
// visible messages of the request's site, newest first, without target:
//
//	{"timestamp":"…","notifications":[…],"gap":false,"more":false}
//
// since=<id> keeps only messages newer than that id (gap=true when the id is
// not among the caller's visible messages still kept: trimmed, unknown, or
// hidden from the caller). limit=N keeps the newest N, or with since the N
// oldest newer ones so that a client pages forward; more=true when limit cut
// the result.
func (s *server) notifications(w http.ResponseWriter, r *http.Request) {
	q, err := parseNotificationsQuery(r.URL.Query(), s.cfg.MaxLimit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rd, err := s.reader(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var page notificationsPage
	switch {
	case s.cfg.Inbox != nil:
		if page, err = s.inboxNotifications(r.Context(), rd, q); err != nil {
			s.fail(w, r, storeFailure(err))
			return
		}
	case s.cfg.History != nil:
		list, err := s.cfg.History.List(r.Context(), rd.Host)
		if err != nil {
			s.fail(w, r, errUnavailable.with(err))
			return
		}
		page = selectNotifications(list, q, message.Recipient{Host: rd.Host, Principal: rd.User, Principals: rd.Principals})
	}
	writeRawJSON(w, http.StatusOK, page.appendJSON(nil, message.FormatTimestamp(s.cfg.Now())))
}

// inboxNotifications selects the page from the caller's own inbox (so
// that a busy site never pushes the caller's messages out of reach): the
// newest limit entries, or with since the limit oldest entries newer than
// since. limit is history.DefaultPage when absent and at most
// history.MaxPage (a larger one gets MaxPage and more=true). gap is the
// inbox's: since is not among the caller's kept entries (the inbox then
// gives its newest entries).
func (s *server) inboxNotifications(ctx context.Context, rd history.Reader, q notificationsQuery) (notificationsPage, error) {
	o := history.PageOptions{Limit: min(q.limit, history.MaxPage), After: q.since}
	if o.Limit == 0 {
		o.Limit = history.DefaultPage
	}
	p, err := s.cfg.Inbox.Page(ctx, rd, o)
	if err != nil {
		return notificationsPage{}, err
	}
	// With a gap the inbox gives no Next (its newest entries are no cursor
	// to page forward from): a full page may have been cut.
	more := p.Next != "" || (p.Gap && len(p.Items) == o.Limit)
	page := notificationsPage{items: make([]*message.Message, len(p.Items)), gap: p.Gap, more: more}
	for i, it := range p.Items {
		page.items[i] = it.Message
	}
	if o.After != "" {
		slices.Reverse(page.items) // the inbox answers after oldest first
	}
	return page, nil
}

// notificationsPage is the selected part of a history list.
type notificationsPage struct {
	items []*message.Message // newest first
	gap   bool               // since was given and not found
	more  bool               // limit cut the result
}

// selectNotifications applies the visibility rule to the whole
// (newest-first) list, then the since cursor, then the limit. The cursor is
// resolved among the visible messages only: a since naming a message the
// caller may not see is answered exactly as an unknown id (gap), so the
// answer never confirms that a hidden message exists. A client's cursors
// come from messages it received, which are all visible to it.
func selectNotifications(list []*message.Message, q notificationsQuery, rcpt message.Recipient) notificationsPage {
	var visible []*message.Message
	for _, m := range list {
		if m.VisibleTo(rcpt) {
			visible = append(visible, m)
		}
	}
	newer, found := message.After(visible, q.since)
	p := notificationsPage{items: newer, gap: q.since != "" && !found}
	if q.limit > 0 && len(p.items) > q.limit {
		p.more = true
		if q.since != "" {
			p.items = p.items[len(p.items)-q.limit:] // the oldest newer ones: page forward
		} else {
			p.items = p.items[:q.limit]
		}
	}
	return p
}

// appendJSON writes the response from each message's push form (no target)
// without re-marshalling through encoding/json.
func (p notificationsPage) appendJSON(dst []byte, timestamp string) []byte {
	dst = append(dst, `{"timestamp":`...)
	dst = strconv.AppendQuote(dst, timestamp) // a FormatTimestamp value: plain ASCII
	dst = append(dst, `,"notifications":[`...)
	for i, m := range p.items {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = m.AppendJSON(dst, false)
	}
	dst = append(dst, `],"gap":`...)
	dst = strconv.AppendBool(dst, p.gap)
	dst = append(dst, `,"more":`...)
	dst = strconv.AppendBool(dst, p.more)
	return append(dst, "}\n"...)
}
