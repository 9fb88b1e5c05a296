package history

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/notifyd/notifyd/message"
	"github.com/redis/go-redis/v9"
)

var _ Inbox = (*Store)(nil)

// ErrNoInbox matches the error of every inbox method of a Store whose
// Config.DeliveryChannel is empty.
var ErrNoInbox = errors.New("history: the inbox is off (no DeliveryChannel)")

// MaxReplay bounds After's limit.
const MaxReplay = 1000

// userKey returns the per-user state hash of user on host.
func (s *Store) userKey(host, user string) string { return s.prefix(host) + "u:" + user }

// setCap bounds a user's explicit read and unread sets: four times what an
// index or a count may hold.
func (s *Store) setCap() int { return 4 * max(s.inboxLength, s.countCap) }

// checkReader validates r for op.
func (s *Store) checkReader(op string, r Reader) error {
	if s.delivery == "" {
		return fmt.Errorf("history: %s: %w", op, ErrNoInbox)
	}
	if strings.ContainsAny(r.Host, "{}") {
		return fmt.Errorf("history: %s: %w", op, &message.FieldError{Field: "host", Reason: "must not contain braces"})
	}
	if r.User == "" {
		return fmt.Errorf("history: %s: %w", op, &message.FieldError{Field: "user", Reason: "is required"})
	}
	return nil
}

// runUser runs userLua's op for r with the op's arguments.
func (s *Store) runUser(ctx context.Context, op string, r Reader, args ...any) (any, error) {
	v, err := s.userScript.Run(ctx, s.rdb, []string{s.userKey(r.Host, r.User)}, s.userArgs(op, r, args)...).Result()
	if err != nil {
		return nil, unavailable(ctx, "inbox "+op, err)
	}
	return v, nil
}

// userArgs are the arguments of userLua's op for r.
func (s *Store) userArgs(op string, r Reader, args []any) []any {
	ps := slices.Clone(r.Principals)
	slices.Sort(ps)
	ps = slices.Compact(ps)
	all := make([]any, 0, 7+len(ps)+len(args))
	all = append(all, op, s.prefix(r.Host), r.User, s.countCap, s.bodyTTL(), s.setCap(), len(ps))
	for _, p := range ps {
		all = append(all, p)
	}
	return append(all, args...)
}

// runCounts runs an op of userLua that answers counts.
func (s *Store) runCounts(ctx context.Context, op string, r Reader, args ...any) (Counts, error) {
	if err := s.checkReader(op, r); err != nil {
		return Counts{}, err
	}
	v, err := s.runUser(ctx, op, r, args...)
	if err != nil {
		return Counts{}, err
	}
	return s.countsOf(ctx, op, v, nil)
}

// Opening is what a websocket reads when it opens: r's counts and r.User's
// preferences, each with the error of its own read.
type Opening struct {
	Counts    Counts
	CountsErr error
	Prefs     Prefs
	PrefsErr  error
}

// CountPrefs returns what Count and Prefs return, in one round trip.
func (s *Store) CountPrefs(ctx context.Context, r Reader) Opening {
	if err := s.checkReader("count", r); err != nil {
		return Opening{CountsErr: err, Prefs: Prefs{Muted: []string{}}, PrefsErr: err}
	}
	pipe := s.rdb.Pipeline()
	cnt := s.userScript.EvalSha(ctx, pipe, []string{s.userKey(r.Host, r.User)}, s.userArgs("count", r, nil)...)
	pf := pipe.Get(ctx, s.prefix(r.Host)+"pf:"+r.User)
	_, _ = pipe.Exec(ctx) // each command keeps its own error
	var o Opening
	if redis.HasErrorPrefix(cnt.Err(), "NOSCRIPT") {
		o.Counts, o.CountsErr = s.Count(ctx, r) // loads the script
	} else {
		o.Counts, o.CountsErr = s.countsOf(ctx, "count", cnt.Val(), cnt.Err())
	}
	raw, err := pf.Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		o.PrefsErr = unavailable(ctx, "prefs", err)
	} else {
		o.Prefs = decodePrefs(raw)
	}
	if o.Prefs.Muted == nil {
		o.Prefs.Muted = []string{}
	}
	return o
}

// countsOf reads the counts of a userLua reply.
func (s *Store) countsOf(ctx context.Context, op string, v any, err error) (Counts, error) {
	if err != nil {
		return Counts{}, unavailable(ctx, "inbox "+op, err)
	}
	a, ok := v.([]any)
	if !ok || len(a) != 2 {
		return Counts{}, unavailable(ctx, "inbox "+op, fmt.Errorf("unexpected script reply %v", v))
	}
	return Counts{Unread: asInt(a[0]), Unseen: asInt(a[1])}, nil
}

func asInt(v any) int {
	n, _ := v.(int64)
	return int(n)
}

// Count returns r's unread and unseen counts: one script in the site's
// slot that reads, for each of r's principals, the index entries above
// the read cursor (at most CountCap each), the explicit unread set, and
// for each candidate its sender and category (muted ones and r's own are
// not counted). Counts stop at CountCap.
func (s *Store) Count(ctx context.Context, r Reader) (Counts, error) {
	return s.runCounts(ctx, "count", r)
}

// Page returns a page of r's inbox (see PageOptions), with r's counts, in
// one script: a merge of r's principal indexes from the cursor (each read
// by batches of about the page size), dropping duplicates, r's own
// messages, retracted ones and those PageOptions filter out. It reads
// O(principals × page) index entries and bodies, and gives up after about
// 20 pages' worth of filtered-out entries, returning what it found with
// Next set to continue from there.
//
// An After id that is not kept, or not visible to r, gives the newest
// entries (oldest of them first) with Gap set; so does an After older
// than what one of r's indexes still keeps. A Before id that is not kept
// or not visible fails with ErrNotFound. Undecodable bodies are skipped
// and counted (Stats().Undecodable).
func (s *Store) Page(ctx context.Context, r Reader, o PageOptions) (Page, error) {
	if err := s.checkReader("page", r); err != nil {
		return Page{}, err
	}
	switch {
	case o.Limit < 0 || o.Limit > MaxPage:
		return Page{}, fmt.Errorf("history: page: %w", &message.FieldError{Field: "limit", Reason: fmt.Sprintf("must be 1-%d", MaxPage)})
	case o.Before != "" && o.After != "":
		return Page{}, fmt.Errorf("history: page: %w", &message.FieldError{Field: "before", Reason: "excludes after"})
	}
	limit := o.Limit
	if limit == 0 {
		limit = DefaultPage
	}
	mode, cursor := "new", ""
	if o.Before != "" {
		mode, cursor = "before", o.Before
	} else if o.After != "" {
		mode, cursor = "after", o.After
	}
	unread, counts := "0", "0"
	if o.UnreadOnly {
		unread = "1"
	}
	if o.Counts {
		counts = "1"
	}
	v, err := s.runUser(ctx, "page", r, limit, mode, cursor, unread, o.Category, 20*limit+200, s.inboxLength, counts)
	if err != nil {
		return Page{}, err
	}
	return s.parsePage(ctx, r.Host, v)
}

// parsePage reads userLua's page reply.
func (s *Store) parsePage(ctx context.Context, host string, v any) (Page, error) {
	a, ok := v.([]any)
	if ok && len(a) == 1 && a[0] == "nf" {
		return Page{}, fmt.Errorf("history: page: %w", ErrNotFound)
	}
	if !ok || len(a) < 6 || a[0] != "ok" || (len(a)-6)%3 != 0 {
		return Page{}, unavailable(ctx, "inbox page", fmt.Errorf("unexpected script reply %v", v))
	}
	p := Page{Gap: asInt(a[1]) == 1, Counts: Counts{Unread: asInt(a[4]), Unseen: asInt(a[5])}}
	p.Next, _ = a[2].(string)
	prefs := decodePrefs(a[3])
	for i := 6; i < len(a); i += 3 {
		seq, _ := a[i].(int64)
		b, _ := a[i+1].(string)
		m, ok := s.decodeOne(host, []byte(b))
		if !ok {
			continue
		}
		p.Items = append(p.Items, Item{Seq: seq, Message: m, Read: asInt(a[i+2]) == 1, Muted: prefs.Mutes(m.Category)})
	}
	return p, nil
}

// decodeOne decodes one stored body, skipping (and counting) what does
// not decode.
func (s *Store) decodeOne(host string, b []byte) (*message.Message, bool) {
	ms := s.decode(host, []string{string(b)})
	if len(ms) == 0 {
		return nil, false
	}
	return ms[0], true
}

// decodePrefs decodes stored preferences; anything else is no preference.
func decodePrefs(v any) Prefs {
	raw, _ := v.(string)
	var p Prefs
	if raw != "" {
		_ = json.Unmarshal([]byte(raw), &p)
	}
	return p
}

// After returns what r may see stored after the id since, oldest first,
// at most limit entries (0: DefaultPage; at most MaxReplay): the
// websocket replay. gap reports that since is no longer kept (or was
// never visible to r), or that r's indexes no longer keep everything
// after it: the items are then the newest ones. An empty since returns
// nothing. Muted entries are included (Item.Muted). It runs Page (After)
// until limit or the end, one script per MaxPage entries.
func (s *Store) After(ctx context.Context, r Reader, since string, limit int) (items []Item, gap bool, err error) {
	if limit <= 0 {
		limit = DefaultPage
	}
	limit = min(limit, MaxReplay)
	if since == "" {
		return nil, false, s.checkReader("after", r)
	}
	for cursor := since; len(items) < limit && cursor != ""; {
		p, err := s.Page(ctx, r, PageOptions{After: cursor, Limit: min(limit-len(items), MaxPage)})
		if err != nil {
			return nil, false, err
		}
		if cursor == since {
			gap = p.Gap
		}
		items = append(items, p.Items...)
		cursor = p.Next
	}
	return items, gap, nil
}

// SiteSince returns the deliveries (DeliveryMessage) of every message of
// host stored after seq and still kept, oldest first, at most limit (0:
// DefaultPage; at most MaxReplay): a gateway's gap fill after it lost its
// subscription to the delivery channel. Retracted messages are left out;
// updated ones come in their current form. One script reading the site log
// "{L}:l" and limit bodies.
func (s *Store) SiteSince(ctx context.Context, host string, seq int64, limit int) ([]Delivery, error) {
	if err := s.checkReader("site since", Reader{Host: host, User: "-"}); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = DefaultPage
	}
	limit = min(limit, MaxReplay)
	pfx := s.prefix(host)
	v, err := s.siteScript.Run(ctx, s.rdb, []string{pfx + "l"}, "since", pfx, seq, limit).Result()
	if err != nil {
		return nil, unavailable(ctx, "site since", err)
	}
	a, _ := v.([]any)
	out := make([]Delivery, 0, len(a)/2)
	for i := 0; i+1 < len(a); i += 2 {
		q, _ := a[i].(int64)
		b, _ := a[i+1].(string)
		out = append(out, Delivery{Kind: DeliveryMessage, Seq: q, Stored: []byte(b)})
	}
	return out, nil
}
