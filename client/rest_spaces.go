package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/notifyd/notifyd/protocol"
)

// The spaces routes (README, "Spaces"). Each call acts for the principal of
// Config.Token's token on the site of Config.Origin.

// Spaces lists the user's spaces, most recent activity first, each with
// its unread count and a preview of its last message.
func (c *Client) Spaces(ctx context.Context) ([]Space, error) {
	var out struct {
		Spaces []Space `json:"spaces"`
	}
	err := c.call(ctx, http.MethodGet, "/api/spaces", nil, nil, &out)
	return out.Spaces, err
}

// Space returns a space with its members. A space the user is not a member
// of is ErrNotFound, like an unknown one.
func (c *Client) Space(ctx context.Context, id string) (Space, error) {
	var sp Space
	err := c.call(ctx, http.MethodGet, "/api/spaces/"+url.PathEscape(id), nil, nil, &sp)
	return sp, err
}

// CreateSpace creates a group space titled title, with the user as
// moderator and members as members.
func (c *Client) CreateSpace(ctx context.Context, title string, members []string) (Space, error) {
	var sp Space
	body := map[string]any{"title": title, "members": members, "kind": "group"}
	err := c.call(ctx, http.MethodPost, "/api/spaces", nil, body, &sp)
	return sp, err
}

// Direct returns the direct space of the user and principal, creating it
// the first time (from either side).
func (c *Client) Direct(ctx context.Context, principal string) (Space, error) {
	var sp Space
	err := c.call(ctx, http.MethodPost, "/api/spaces/direct/"+url.PathEscape(principal), nil, nil, &sp)
	return sp, err
}

// Messages returns a page of a space's history, newest first, with
// reactions; pass its Next as opts.Before for the page before.
func (c *Client) Messages(ctx context.Context, space string, opts MessagesOptions) (MessagesPage, error) {
	q := url.Values{}
	if opts.Before != "" {
		q.Set("before", opts.Before)
	}
	if opts.Limit > 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	if opts.Thread != "" {
		q.Set("thread", opts.Thread)
	}
	var page MessagesPage
	err := c.call(ctx, http.MethodGet, "/api/spaces/"+url.PathEscape(space)+"/messages", q, nil, &page)
	return page, err
}

// Post sends m to space over REST and returns the stored message: Send
// without a websocket (the message event reaches every subscribed
// connection of the user).
func (c *Client) Post(ctx context.Context, space string, m protocol.Send) (protocol.SpaceMessage, error) {
	var out protocol.SpaceMessage
	err := c.call(ctx, http.MethodPost, "/api/spaces/"+url.PathEscape(space)+"/messages", nil, m, &out)
	return out, err
}

// AddMember adds principal to a space (moderators).
func (c *Client) AddMember(ctx context.Context, space, principal string, moderator bool) (Member, error) {
	var m Member
	body := map[string]any{"principal": principal, "moderator": moderator}
	err := c.call(ctx, http.MethodPost, "/api/spaces/"+url.PathEscape(space)+"/members", nil, body, &m)
	return m, err
}

// RemoveMember removes principal from a space (moderators; anyone for
// themselves: leaving).
func (c *Client) RemoveMember(ctx context.Context, space, principal string) error {
	return c.call(ctx, http.MethodDelete, "/api/spaces/"+url.PathEscape(space)+"/members/"+url.PathEscape(principal), nil, nil, nil)
}
