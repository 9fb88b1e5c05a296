package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/client"
)

const revokePrincipal = "users:revokee"

// revokeState is the revocation fault's clients: one connection of the
// same principal on each gateway, each presenting the same token for ever
// (as a stolen token would be), so that every reconnect after the
// revocation must be refused.
type revokeState struct {
	clients []*client.Client
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu       sync.Mutex
	up       []bool      // guarded by mu: connected, per gateway
	closedAt []time.Time // guarded by mu: first disconnect after the revocation
	closeErr []error     // guarded by mu
	revoked  time.Time   // guarded by mu
	connects int         // guarded by mu: connections established after the revocation
}

func revokePrepare(ctx context.Context, c *chaos, ph *phase) error {
	tok, err := auth.Mint(c.secret, revokePrincipal, "", nil, time.Now(), time.Hour)
	if err != nil {
		return err
	}
	n := len(c.gws)
	s := &revokeState{up: make([]bool, n), closedAt: make([]time.Time, n), closeErr: make([]error, n)}
	for i, g := range c.gws {
		cl, err := client.New(client.Config{
			URL: g.wsURL(), Origin: c.site, HTTPClient: c.wsHTTP,
			Header: http.Header{"X-Forwarded-For": {fmt.Sprintf("10.254.0.%d", i+1)}},
			Token:  func(context.Context) (string, error) { return tok, nil },
			OnConnect: func(string) {
				s.mu.Lock()
				defer s.mu.Unlock()
				s.up[i] = true
				if !s.revoked.IsZero() {
					s.connects++
				}
			},
			OnDisconnect: func(_ string, err error) {
				s.mu.Lock()
				defer s.mu.Unlock()
				s.up[i] = false
				if !s.revoked.IsZero() && s.closedAt[i].IsZero() {
					s.closedAt[i], s.closeErr[i] = time.Now(), err
				}
			},
		})
		if err != nil {
			return err
		}
		s.clients = append(s.clients, cl)
	}
	rctx, cancel := context.WithCancel(ctx)
	s.cancel = cancel
	for _, cl := range s.clients {
		s.wg.Go(func() { _ = cl.Run(rctx) })
	}
	ph.revoke = s
	return poll(ctx, 15*time.Second, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, up := range s.up {
			if !up {
				return false
			}
		}
		return true
	}, "revokee connected to every gateway")
}

// revokeInject asks gateway 1 to disconnect the principal and measures how
// long each gateway takes to close its connection.
func revokeInject(ctx context.Context, c *chaos, ph *phase) error {
	s := ph.revoke
	if s == nil {
		return errors.New("revokee not connected")
	}
	s.mu.Lock()
	s.revoked = time.Now()
	s.mu.Unlock()
	ph.injected = s.revoked
	status, body, err := adminDisconnect(ctx, c.hc, c.gws[0].base(), c.tokens[0], revokePrincipal)
	if err != nil {
		return fmt.Errorf("POST /api/admin/disconnect: %w", err)
	}
	if status != http.StatusOK {
		return fmt.Errorf("POST /api/admin/disconnect: %d %s", status, bytes.TrimSpace(body))
	}
	err = poll(ctx, 10*time.Second, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, at := range s.closedAt {
			if at.IsZero() {
				return false
			}
		}
		return true
	}, "revoked connections closed")
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, at := range s.closedAt {
		if at.IsZero() {
			ph.note("gateway%d: still open", i+1)
			continue
		}
		took := at.Sub(s.revoked)
		ph.recover = max(ph.recover, took)
		ph.note("gateway%d closed it after %v (%s)", i+1, took.Round(time.Millisecond), closeText(s.closeErr[i]))
	}
	return err
}

// revokeFinish checks that no reconnect with the revoked token succeeded.
func revokeFinish(_ context.Context, _ *chaos, ph *phase) {
	s := ph.revoke
	if s == nil {
		return
	}
	s.cancel()
	s.wg.Wait()
	var refused uint64
	for _, cl := range s.clients {
		refused += cl.Stats().Refused
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, err := range s.closeErr {
		if errors.Is(err, client.ErrRevoked) && refused > 0 {
			refused-- // the close itself, not a reconnect
		}
	}
	ph.note("reconnects with the revoked token: %d refused, %d accepted", refused, s.connects)
	if s.connects > 0 {
		ph.problem("the revoked token connected again %d times", s.connects)
	}
}

func closeText(err error) string {
	if code := websocket.CloseStatus(err); code != -1 {
		return fmt.Sprintf("close %d", code)
	}
	return shortErr(err)
}

// adminDisconnect calls POST /api/admin/disconnect.
func adminDisconnect(ctx context.Context, hc *http.Client, base, token, principal string) (int, []byte, error) {
	body := []byte(`{"principal":` + quote(principal) + `}`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/admin/disconnect", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, b, nil
}
