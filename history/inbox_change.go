package history

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/message"
)

// updateAttempts bounds Update's retries when the body changes between
// its read and its write.
const updateAttempts = 5

// errConcurrent: the body kept changing under Update.
var errConcurrent = errors.New("message changed concurrently")

// Update applies patch to a copy of the stored message id of host and
// stores the result: its id, host, source (sender), target (with its keys)
// and timestamp are kept whatever patch does; it must still Validate and
// fit MaxMessageSize. The new stored form replaces the body (its category
// too, for filters and mutes) and is published as DeliveryUpdate with the
// message's seq, in one script that checks that the body is the one
// patched (else Update reads again, at most 5 times). Indexes, read state
// and order do not change. PyAMS's list is left as it is: it keeps the
// form first stored. Unknown and retracted ids fail with ErrNotFound.
func (s *Store) Update(ctx context.Context, host, id string, patch func(*message.Message) error) (*message.Message, error) {
	if err := s.checkChange("update", host, id); err != nil {
		return nil, err
	}
	pfx := s.prefix(host)
	for range updateAttempts {
		v, err := s.rdb.HMGet(ctx, pfx+"m:"+id, "b", "r").Result()
		if err != nil {
			return nil, unavailable(ctx, "update", err)
		}
		old, _ := v[0].(string)
		if old == "" || v[1] == "1" {
			return nil, fmt.Errorf("history: update: %w", ErrNotFound)
		}
		m, err := message.Decode([]byte(old), -1)
		if err != nil {
			return nil, fmt.Errorf("history: update: stored form: %w", err)
		}
		c := m.Clone()
		if err := patch(c); err != nil {
			return nil, fmt.Errorf("history: update: %w", err)
		}
		c.ID, c.Host, c.Source, c.Target, c.Timestamp = m.ID, m.Host, m.Source, m.Target, m.Timestamp
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("history: update: %w", err)
		}
		stored := c.StoredJSON()
		if s.max > 0 && len(stored) > s.max {
			return nil, fmt.Errorf("history: update: %w: %d bytes, limit %d", message.ErrTooLarge, len(stored), s.max)
		}
		n, err := s.siteScript.Run(ctx, s.rdb, []string{pfx + "l"}, "update", pfx, id, old, stored, c.Category, s.delivery).Int64()
		switch {
		case err != nil:
			return nil, unavailable(ctx, "update", err)
		case n == 0:
			return nil, fmt.Errorf("history: update: %w", ErrNotFound)
		case n > 0:
			return c, nil
		}
	}
	return nil, unavailable(ctx, "update", errConcurrent)
}

// Retract removes the message id of host from every index (so from every
// inbox, count, page and replay), marks its body retracted (kept until it
// expires, so a cursor on it still works and the id is never stored
// again), and publishes its stored form as DeliveryRetract, in one
// script. It returns the retracted message. PyAMS's list is left as it
// is. Unknown and already retracted ids fail with ErrNotFound.
func (s *Store) Retract(ctx context.Context, host, id string) (*message.Message, error) {
	return s.RetractUnless(ctx, host, id, "")
}

// RetractUnless is Retract, except that a message whose category is
// category is left as it is and fails with ErrCategoryRefused ("" refuses
// none). The check is part of the retract script: a publisher cannot
// retract a space message behind its space's back (api).
func (s *Store) RetractUnless(ctx context.Context, host, id, category string) (*message.Message, error) {
	if err := s.checkChange("retract", host, id); err != nil {
		return nil, err
	}
	pfx := s.prefix(host)
	v, err := s.siteScript.Run(ctx, s.rdb, []string{pfx + "l"}, "retract", pfx, id, s.delivery, category).Slice()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, unavailable(ctx, "retract", err)
	}
	if len(v) == 1 {
		return nil, fmt.Errorf("history: retract %s: %w", id, ErrCategoryRefused)
	}
	if len(v) != 2 {
		return nil, fmt.Errorf("history: retract: %w", ErrNotFound)
	}
	b, _ := v[1].(string)
	m, err := message.Decode([]byte(b), -1)
	if err != nil {
		return &message.Message{ID: id, Host: host}, nil
	}
	return m, nil
}

// checkChange validates the arguments of Update and Retract.
func (s *Store) checkChange(op, host, id string) error {
	if err := s.checkReader(op, Reader{Host: host, User: "-"}); err != nil {
		return err
	}
	if id == "" {
		return fmt.Errorf("history: %s: %w", op, &message.FieldError{Field: "id", Reason: "is required"})
	}
	return nil
}
