package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// maxAnswerBytes bounds a REST answer the client reads.
const maxAnswerBytes = 8 << 20

// call performs one REST request on Config.API: body (when not nil) as
// JSON, the token from Config.Token as a Bearer, Origin and Header as for
// the websocket; a 2xx answer is decoded into out (when not nil). A 401 asks
// Config.Token again with Refresh(ctx) true and retries once. Any other
// status is an *APIError.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, body, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("client: %s %s: %w", method, path, err)
		}
	}
	for attempt := 0; ; attempt++ {
		err := c.callOnce(withRefresh(ctx, attempt > 0), method, path, query, payload, out)
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized && attempt == 0 {
			continue
		}
		return err
	}
}

func (c *Client) callOnce(ctx context.Context, method, path string, query url.Values, payload []byte, out any) error {
	token, err := c.cfg.Token(ctx)
	if err != nil {
		return fmt.Errorf("client: %s %s: token: %w", method, path, err)
	}
	u, _ := url.Parse(c.cfg.API) // checked by New
	u = u.JoinPath(path)
	q := u.Query() // the host parameter of the base, if any
	for k, vs := range query {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return fmt.Errorf("client: %s %s: %w", method, path, err)
	}
	req.Header = c.header()
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("client: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return fmt.Errorf("client: %s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &APIError{Method: method, Path: path, Status: resp.StatusCode}
		var body struct {
			Message string `json:"message"`
			Field   string `json:"field"`
		}
		if json.Unmarshal(data, &body) == nil && body.Message != "" {
			e.Message, e.Field = body.Message, body.Field
		} else {
			e.Message = http.StatusText(resp.StatusCode)
		}
		return e
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("client: %s %s: decode answer: %w", method, path, err)
	}
	return nil
}
