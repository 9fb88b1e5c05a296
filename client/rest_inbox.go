package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/notifyd/notifyd/message"
)

// The inbox routes (README, "The inbox"): the user's own messages on the
// site of Config.Origin, with read state. Every call that changes the
// counts answers them; the server also pushes them to every connection of
// the user (Config.OnInbox).

// Inbox returns a page of the user's inbox, newest first (oldest first
// with opts.After), and the counts.
func (c *Client) Inbox(ctx context.Context, opts InboxOptions) (InboxPage, error) {
	q := url.Values{}
	for k, v := range map[string]string{"before": opts.Before, "after": opts.After, "category": opts.Category} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if opts.Limit > 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	if opts.UnreadOnly {
		q.Set("unread", "true")
	}
	var out struct {
		Notifications []json.RawMessage `json:"notifications"`
		Counts
		Next *string `json:"next"`
		Gap  bool    `json:"gap"`
	}
	if err := c.call(ctx, http.MethodGet, "/api/inbox", q, nil, &out); err != nil {
		return InboxPage{}, err
	}
	page := InboxPage{Counts: out.Counts, Gap: out.Gap, Items: make([]InboxItem, 0, len(out.Notifications))}
	if out.Next != nil {
		page.Next = *out.Next
	}
	for _, raw := range out.Notifications {
		m, err := message.Decode(raw, -1)
		if err != nil {
			c.stats.invalid.Add(1)
			continue
		}
		var read bool
		_ = json.Unmarshal(m.Extra["read"], &read) // absent: unread
		delete(m.Extra, "read")
		page.Items = append(page.Items, InboxItem{Message: m, Read: read})
	}
	return page, nil
}

// Count returns the user's badge counts.
func (c *Client) Count(ctx context.Context) (Counts, error) {
	var n Counts
	err := c.call(ctx, http.MethodGet, "/api/inbox/count", nil, nil, &n)
	return n, err
}

// MarkRead marks messages read (1 to 100 ids) and returns the new counts.
func (c *Client) MarkRead(ctx context.Context, ids ...string) (Counts, error) {
	return c.change(ctx, "/api/inbox/read", map[string]any{"ids": ids})
}

// MarkUnread marks messages unread again and returns the new counts.
func (c *Client) MarkUnread(ctx context.Context, ids ...string) (Counts, error) {
	return c.change(ctx, "/api/inbox/unread", map[string]any{"ids": ids})
}

// MarkAllRead marks the whole inbox read and returns the new counts.
func (c *Client) MarkAllRead(ctx context.Context) (Counts, error) {
	return c.change(ctx, "/api/inbox/read", map[string]any{"all": true})
}

// MarkSeen marks everything stored up to the message until as seen (the
// badge's unseen count) and returns the new counts.
func (c *Client) MarkSeen(ctx context.Context, until string) (Counts, error) {
	return c.change(ctx, "/api/inbox/seen", map[string]any{"until": until})
}

func (c *Client) change(ctx context.Context, path string, body any) (Counts, error) {
	var n Counts
	err := c.call(ctx, http.MethodPost, path, nil, body, &n)
	return n, err
}

// Preferences returns the user's inbox preferences on the site.
func (c *Client) Preferences(ctx context.Context) (Prefs, error) {
	var p Prefs
	err := c.call(ctx, http.MethodGet, "/api/inbox/preferences", nil, nil, &p)
	return p, err
}

// SetPreferences replaces the user's preferences and returns them as
// stored (duplicates dropped).
func (c *Client) SetPreferences(ctx context.Context, p Prefs) (Prefs, error) {
	if p.Muted == nil {
		p.Muted = []string{}
	}
	var out Prefs
	err := c.call(ctx, http.MethodPut, "/api/inbox/preferences", nil, p, &out)
	return out, err
}
