package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"unicode"

	"github.com/notifyd/notifyd/history"
)

// inboxPrefs answers GET /api/inbox/preferences: {"muted":[…]}.
func (s *server) inboxPrefs(w http.ResponseWriter, r *http.Request) {
	rd, err := s.reader(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.cfg.Inbox.Prefs(r.Context(), rd.Host, rd.User)
	if err != nil {
		s.fail(w, r, storeFailure(err))
		return
	}
	if p.Muted == nil {
		p.Muted = []string{}
	}
	writeJSON(w, http.StatusOK, p)
}

// putInboxPrefs answers PUT /api/inbox/preferences {"muted":[…]}: it
// replaces the caller's preferences on the site and answers them as
// stored (duplicates dropped). Every gateway is told the new preferences
// and, since muted categories are not counted, the new counts.
func (s *server) putInboxPrefs(w http.ResponseWriter, r *http.Request) {
	rd, body, err := s.inboxRequest(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := decodePrefs(body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.cfg.Inbox.SetPrefs(r.Context(), rd.Host, rd.User, p); err != nil {
		s.fail(w, r, storeFailure(err))
		return
	}
	s.announcePrefs(r, rd, p)
	writeJSON(w, http.StatusOK, p)
}

// announcePrefs tells every gateway the user's new preferences, then the
// counts they give; failures are logged, never the caller's.
func (s *server) announcePrefs(r *http.Request, rd history.Reader, p history.Prefs) {
	if s.cfg.InboxEvents == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), announceTimeout)
	defer cancel()
	if err := s.cfg.InboxEvents.Prefs(ctx, rd.Host, rd.User, p); err != nil {
		s.logAnnounceFailure(r, rd, "preferences", err)
	}
	c, err := s.cfg.Inbox.Count(ctx, rd)
	if err != nil {
		s.logAnnounceFailure(r, rd, "counts", err)
		return
	}
	if err := s.cfg.InboxEvents.Counts(ctx, rd.Host, rd.User, c); err != nil {
		s.logAnnounceFailure(r, rd, "counts", err)
	}
}

// decodePrefs reads {"muted":[…]} strictly: at most MaxMutedCategories
// valid patterns (validMutePattern); null or [] unmutes everything.
func decodePrefs(body []byte) (history.Prefs, error) {
	members, err := decodeMembers(body, "muted")
	if err != nil {
		return history.Prefs{}, err
	}
	raw, ok := members["muted"]
	if !ok {
		return history.Prefs{}, errBadMuted
	}
	var muted []string
	if err := json.Unmarshal(raw, &muted); err != nil || len(muted) > MaxMutedCategories {
		return history.Prefs{}, errBadMuted.with(err)
	}
	p := history.Prefs{Muted: make([]string, 0, len(muted))}
	seen := make(map[string]struct{}, len(muted))
	for _, c := range muted {
		if !validMutePattern(c) {
			return history.Prefs{}, errBadMuted
		}
		if _, dup := seen[c]; !dup {
			seen[c] = struct{}{}
			p.Muted = append(p.Muted, c)
		}
	}
	return p, nil
}

// validCategory reports whether c is 1 to MaxCategoryBytes bytes without
// control characters (JSON and query decoding made it valid UTF-8 or
// replaced what was not).
func validCategory(c string) bool {
	if c == "" || len(c) > MaxCategoryBytes {
		return false
	}
	for _, r := range c {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// validMutePattern reports whether c is a valid category without white
// space whose only "*", if any, ends it as ".*" after a non-empty prefix
// ("site.*"), as history.Prefs.Mutes reads it.
func validMutePattern(c string) bool {
	if !validCategory(c) || strings.ContainsFunc(c, unicode.IsSpace) {
		return false
	}
	i := strings.IndexByte(c, '*')
	return i < 0 || (i == len(c)-1 && i >= 2 && c[i-1] == '.')
}
