package api

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/message"
)

// memInbox is an in-memory history.Inbox with the contract's rules, for
// the tests that run before (and besides) the Redis store: the same tests
// run on both (inboxBackends).
type memInbox struct {
	mu      sync.Mutex
	seq     int64                       // guarded by mu
	entries map[string][]*memEntry      // by lower-cased host, store order; guarded by mu
	users   map[[2]string]*memUser      // by host, user; guarded by mu
	prefs   map[[2]string]history.Prefs // guarded by mu
}

type memEntry struct {
	seq       int64
	m         *message.Message // stored form
	retracted bool
}

type memUser struct {
	read, seen      int64
	readIDs, unread map[string]bool
}

func newMemInbox() *memInbox {
	return &memInbox{entries: map[string][]*memEntry{}, users: map[[2]string]*memUser{}, prefs: map[[2]string]history.Prefs{}}
}

var _ history.Inbox = (*memInbox)(nil)

// store keeps m as the pipeline would.
func (b *memInbox) store(m *message.Message) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seq++
	host := strings.ToLower(m.Host)
	b.entries[host] = append(b.entries[host], &memEntry{seq: b.seq, m: m.Clone()})
}

func (b *memInbox) userLocked(r history.Reader) *memUser {
	k := [2]string{strings.ToLower(r.Host), r.User}
	u := b.users[k]
	if u == nil {
		u = &memUser{readIDs: map[string]bool{}, unread: map[string]bool{}}
		b.users[k] = u
	}
	return u
}

// visibleLocked returns what r may see, newest first.
func (b *memInbox) visibleLocked(r history.Reader) []*memEntry {
	var out []*memEntry
	list := b.entries[strings.ToLower(r.Host)]
	for i := len(list) - 1; i >= 0; i-- {
		e := list[i]
		if !e.retracted && e.m.SourceID() != r.User && slices.ContainsFunc(e.m.Principals(), func(p string) bool {
			return slices.Contains(r.Principals, p)
		}) {
			out = append(out, e)
		}
	}
	return out
}

func (b *memInbox) findLocked(r history.Reader, id string) *memEntry {
	for _, e := range b.visibleLocked(r) {
		if e.m.ID == id {
			return e
		}
	}
	return nil
}

func (u *memUser) isRead(e *memEntry) bool {
	return u.readIDs[e.m.ID] || (e.seq <= u.read && !u.unread[e.m.ID])
}

func (b *memInbox) countsLocked(r history.Reader) history.Counts {
	u, p := b.userLocked(r), b.prefs[[2]string{strings.ToLower(r.Host), r.User}]
	var c history.Counts
	for _, e := range b.visibleLocked(r) {
		if !u.isRead(e) && !p.Mutes(e.m.Category) {
			c.Unread++
			if e.seq > u.seen {
				c.Unseen++
			}
		}
	}
	return c
}

func (b *memInbox) Page(_ context.Context, r history.Reader, o history.PageOptions) (history.Page, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	limit := o.Limit
	if limit == 0 {
		limit = history.DefaultPage
	}
	list := b.visibleLocked(r)
	var p history.Page
	switch {
	case o.Before != "":
		e := b.findLocked(r, o.Before)
		if e == nil {
			return p, history.ErrNotFound
		}
		list = slices.DeleteFunc(list, func(x *memEntry) bool { return x.seq >= e.seq })
	case o.After != "":
		// An unknown or invisible cursor: the newest entries, oldest first,
		// and a gap (as *history.Store answers).
		if e := b.findLocked(r, o.After); e == nil {
			p.Gap = true
			list = list[:min(limit, len(list))]
		} else {
			list = slices.DeleteFunc(list, func(x *memEntry) bool { return x.seq <= e.seq })
		}
		slices.Reverse(list)
	}
	u, prefs := b.userLocked(r), b.prefs[[2]string{strings.ToLower(r.Host), r.User}]
	for _, e := range list {
		read := u.isRead(e)
		if (o.UnreadOnly && read) || (o.Category != "" && e.m.Category != o.Category) {
			continue
		}
		if len(p.Items) == limit {
			p.Next = p.Items[limit-1].Message.ID
			break
		}
		p.Items = append(p.Items, history.Item{Seq: e.seq, Message: e.m.Clone(), Read: read, Muted: prefs.Mutes(e.m.Category)})
	}
	if o.Counts {
		p.Counts = b.countsLocked(r)
	}
	return p, nil
}

func (b *memInbox) Count(_ context.Context, r history.Reader) (history.Counts, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.countsLocked(r), nil
}

func (b *memInbox) mark(r history.Reader, ids []string, read bool) history.Counts {
	b.mu.Lock()
	defer b.mu.Unlock()
	u := b.userLocked(r)
	for _, id := range ids {
		if b.findLocked(r, id) == nil {
			continue
		}
		if read {
			u.readIDs[id], u.unread[id] = true, false
		} else {
			u.readIDs[id], u.unread[id] = false, true
		}
	}
	return b.countsLocked(r)
}

func (b *memInbox) MarkRead(_ context.Context, r history.Reader, ids []string) (history.Counts, error) {
	return b.mark(r, ids, true), nil
}

func (b *memInbox) MarkUnread(_ context.Context, r history.Reader, ids []string) (history.Counts, error) {
	return b.mark(r, ids, false), nil
}

func (b *memInbox) MarkAllRead(_ context.Context, r history.Reader) (history.Counts, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	u := b.userLocked(r)
	u.read, u.readIDs, u.unread = b.seq, map[string]bool{}, map[string]bool{}
	return b.countsLocked(r), nil
}

func (b *memInbox) MarkSeen(_ context.Context, r history.Reader, until string) (history.Counts, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e := b.findLocked(r, until); e != nil { // else nothing changes
		u := b.userLocked(r)
		u.seen = max(u.seen, e.seq)
	}
	return b.countsLocked(r), nil
}

func (b *memInbox) Prefs(_ context.Context, host, user string) (history.Prefs, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.prefs[[2]string{strings.ToLower(host), user}], nil
}

func (b *memInbox) SetPrefs(_ context.Context, host, user string, p history.Prefs) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.prefs[[2]string{strings.ToLower(host), user}] = history.Prefs{Muted: slices.Clone(p.Muted)}
	return nil
}

func (b *memInbox) entryLocked(host, id string) *memEntry {
	for _, e := range b.entries[strings.ToLower(host)] {
		if e.m.ID == id && !e.retracted {
			return e
		}
	}
	return nil
}

func (b *memInbox) Update(_ context.Context, host, id string, patch func(*message.Message) error) (*message.Message, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.entryLocked(host, id)
	if e == nil {
		return nil, history.ErrNotFound
	}
	m := e.m.Clone()
	if err := patch(m); err != nil {
		return nil, err
	}
	e.m = m
	return m.Clone(), nil
}

func (b *memInbox) Retract(ctx context.Context, host, id string) (*message.Message, error) {
	return b.RetractUnless(ctx, host, id, "")
}

func (b *memInbox) RetractUnless(_ context.Context, host, id, category string) (*message.Message, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.entryLocked(host, id)
	if e == nil {
		return nil, history.ErrNotFound
	}
	if category != "" && e.m.Category == category {
		return nil, history.ErrCategoryRefused
	}
	e.retracted = true
	return e.m.Clone(), nil
}

func (b *memInbox) Ack(context.Context, history.Reader, string, string) error { return nil }

func (b *memInbox) DeviceCursor(context.Context, history.Reader, string) (string, error) {
	return "", nil
}
