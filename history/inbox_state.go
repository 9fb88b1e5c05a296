package history

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/message"
)

// Preference bounds (SetPrefs).
const (
	// MaxMuted is how many muted patterns a user may have on a site.
	MaxMuted = 100
	// MaxPatternLength bounds each muted pattern, in bytes.
	MaxPatternLength = 128
	// MaxDeviceLength bounds a device name (Ack), in bytes.
	MaxDeviceLength = 128
	// MaxMark bounds the ids of one MarkRead or MarkUnread.
	MaxMark = 1000
)

// MarkRead marks the ids read for r and returns r's new counts. Ids that
// are not kept or not visible to r are ignored. Ids above the read cursor
// go to the explicit read set "{L}:ur:<user>", ids at or below it leave
// the explicit unread set "{L}:uu:<user>".
func (s *Store) MarkRead(ctx context.Context, r Reader, ids []string) (Counts, error) {
	if err := checkIDs("read", ids); err != nil {
		return Counts{}, err
	}
	return s.runCounts(ctx, "read", r, anys(ids)...)
}

// MarkUnread marks the ids unread for r and returns r's new counts; ids
// that are not kept or not visible to r are ignored.
func (s *Store) MarkUnread(ctx context.Context, r Reader, ids []string) (Counts, error) {
	if err := checkIDs("unread", ids); err != nil {
		return Counts{}, err
	}
	return s.runCounts(ctx, "unread", r, anys(ids)...)
}

// MarkAllRead moves r's read cursor to the site's last seq (everything
// stored so far is read), empties the explicit sets and returns r's new
// counts.
func (s *Store) MarkAllRead(ctx context.Context, r Reader) (Counts, error) {
	return s.runCounts(ctx, "readall", r)
}

// MarkSeen moves r's seen cursor up to the id until (never back) and
// returns r's new counts. An id that is not kept or not visible to r
// changes nothing.
func (s *Store) MarkSeen(ctx context.Context, r Reader, until string) (Counts, error) {
	if until == "" {
		return Counts{}, fmt.Errorf("history: seen: %w", &message.FieldError{Field: "until", Reason: "is required"})
	}
	return s.runCounts(ctx, "seen", r, until)
}

// Ack records that r's device received everything up to id: the device
// cursor only moves forward, and ignores ids that are not kept or not
// visible to r.
func (s *Store) Ack(ctx context.Context, r Reader, device, id string) error {
	if err := s.checkReader("ack", r); err != nil {
		return err
	}
	if err := checkDevice("ack", device); err != nil {
		return err
	}
	if id == "" {
		return fmt.Errorf("history: ack: %w", &message.FieldError{Field: "id", Reason: "is required"})
	}
	_, err := s.runUser(ctx, "ack", r, device, id)
	return err
}

// DeviceCursor returns the last id Ack recorded for r's device, "" when
// none.
func (s *Store) DeviceCursor(ctx context.Context, r Reader, device string) (string, error) {
	if err := s.checkReader("device cursor", r); err != nil {
		return "", err
	}
	if err := checkDevice("device cursor", device); err != nil {
		return "", err
	}
	v, err := s.runUser(ctx, "device", r, device)
	if err != nil {
		return "", err
	}
	id, _ := v.(string)
	return id, nil
}

// Prefs returns user's preferences on host (none when never set).
func (s *Store) Prefs(ctx context.Context, host, user string) (Prefs, error) {
	if err := s.checkReader("prefs", Reader{Host: host, User: user}); err != nil {
		return Prefs{}, err
	}
	raw, err := s.rdb.Get(ctx, s.prefix(host)+"pf:"+user).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return Prefs{}, unavailable(ctx, "prefs", err)
	}
	p := decodePrefs(raw)
	if p.Muted == nil {
		p.Muted = []string{}
	}
	return p, nil
}

// SetPrefs replaces user's preferences on host, kept without expiry in
// "{L}:pf:<user>". Each muted pattern is an exact category or a prefix
// followed by ".*" (no other '*', no whitespace, at most
// MaxPatternLength bytes), at most MaxMuted of them; duplicates are
// dropped. Errors match message.ErrInvalid (field "muted").
func (s *Store) SetPrefs(ctx context.Context, host, user string, p Prefs) error {
	if err := s.checkReader("set prefs", Reader{Host: host, User: user}); err != nil {
		return err
	}
	muted, err := checkMuted(p.Muted)
	if err != nil {
		return fmt.Errorf("history: set prefs: %w", err)
	}
	raw, err := json.Marshal(Prefs{Muted: muted})
	if err != nil {
		return fmt.Errorf("history: set prefs: %w", err)
	}
	if err := s.rdb.Set(ctx, s.prefix(host)+"pf:"+user, raw, 0).Err(); err != nil {
		return unavailable(ctx, "set prefs", err)
	}
	return nil
}

// checkMuted validates muted patterns and returns them without duplicates.
func checkMuted(muted []string) ([]string, error) {
	if len(muted) > MaxMuted {
		return nil, &message.FieldError{Field: "muted", Reason: fmt.Sprintf("has more than %d entries", MaxMuted)}
	}
	out := make([]string, 0, len(muted))
	for _, m := range muted {
		prefix, wild := strings.CutSuffix(m, ".*")
		switch {
		case m == "" || len(m) > MaxPatternLength:
			return nil, &message.FieldError{Field: "muted", Reason: fmt.Sprintf("entries must be 1-%d bytes", MaxPatternLength)}
		case strings.ContainsAny(m, " \t\r\n"):
			return nil, &message.FieldError{Field: "muted", Reason: "entries must not contain whitespace"}
		case strings.Contains(prefix, "*") || (wild && prefix == ""):
			return nil, &message.FieldError{Field: "muted", Reason: `entries are a category or "<prefix>.*"`}
		}
		if !contains(out, m) {
			out = append(out, m)
		}
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func checkIDs(op string, ids []string) error {
	if len(ids) == 0 || len(ids) > MaxMark {
		return fmt.Errorf("history: %s: %w", op, &message.FieldError{Field: "ids", Reason: fmt.Sprintf("must hold 1-%d ids", MaxMark)})
	}
	return nil
}

func checkDevice(op, device string) error {
	if device == "" || len(device) > MaxDeviceLength {
		return fmt.Errorf("history: %s: %w", op, &message.FieldError{Field: "device", Reason: fmt.Sprintf("must be 1-%d bytes", MaxDeviceLength)})
	}
	return nil
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
