package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/coder/websocket"
)

// attempt gets a token, dials url and, when the handshake succeeds, serves
// the connection until it ends.
func (c *Client) attempt(ctx context.Context, url string, refresh bool) outcome {
	token, err := c.cfg.Token(withRefresh(ctx, refresh))
	if err != nil {
		// Keep asking for a fresh token until one is obtained.
		return outcome{err: fmt.Errorf("client: token: %w", err), refresh: refresh}
	}
	c.stats.dials.Add(1)
	dctx, cancel := context.WithTimeout(ctx, c.cfg.DialTimeout)
	// The token travels as Authorization: Bearer, not as PyAMS's
	// subprotocol pair: the gateway takes a subprotocol token for PyAMS's
	// browser client, which gets no activity events and, when its token
	// expires, is muted for NOTIFYD_WS_MUTE_GRACE instead of closed with
	// 4001 at once.
	h := c.header()
	h.Set("Authorization", "Bearer "+token)
	ws, resp, err := websocket.Dial(dctx, c.dialURL(url), &websocket.DialOptions{
		HTTPClient: c.cfg.HTTPClient,
		HTTPHeader: h,
	})
	cancel()
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		// No answer, or a gateway that is draining or overloaded: another
		// gateway may do better. 429 (rate limited) and 403 (origin) would
		// be the same everywhere.
		move := status == 0 || status == http.StatusServiceUnavailable ||
			status == http.StatusBadGateway || status == http.StatusGatewayTimeout
		return outcome{err: fmt.Errorf("client: dial %s: status %d: %w", url, status, err), move: move}
	}
	return c.serve(ctx, url, ws)
}

// dialURL is u with since set to the last id received, if any, and device
// to Config.Device.
func (c *Client) dialURL(u string) string {
	since := c.LastID()
	if since == "" && c.cfg.Device == "" {
		return u
	}
	parsed, err := url.Parse(u) // checked by New
	if err != nil {
		return u
	}
	q := parsed.Query()
	if since != "" {
		q.Set("since", since)
	}
	if c.cfg.Device != "" {
		q.Set("device", c.cfg.Device)
	}
	parsed.RawQuery = q.Encode()
	return parsed.String()
}

func (c *Client) header() http.Header {
	h := c.cfg.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if c.cfg.Origin != "" {
		h.Set("Origin", c.cfg.Origin)
	}
	return h
}
