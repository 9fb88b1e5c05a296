package history

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Append stores the stored form of message id in the list of host, unless an
// entry with the same id was appended within the dedup window. It reports
// whether this call stored it. Redis errors match ErrUnavailable; a missing id
// or a host with braces match message.ErrInvalid.
func (s *Store) Append(ctx context.Context, host, id string, stored []byte) (added bool, err error) {
	r, err := s.run(ctx, "append", Entry{Host: host, ID: id, Stored: stored}, "", Idempotency{})
	return r.Added, err
}

// AppendPublish is Append that also PUBLISHes stored on channel, in the
// same script, when (and only when) it stores it: a site's list holds its
// messages in the order subscribers receive them, and a duplicate is
// neither stored nor published again. Errors are Append's.
// AppendPublishOnce also reports the first answer of a duplicate.
func (s *Store) AppendPublish(ctx context.Context, channel, host, id string, stored []byte) (added bool, err error) {
	r, err := s.AppendPublishOnce(ctx, channel, Entry{Host: host, ID: id, Stored: stored}, Idempotency{})
	return r.Added, err
}

// Result is the outcome of AppendPublishOnce.
type Result struct {
	// Added reports whether this call stored and published the entry.
	Added bool
	// Replayed reports that the idempotency key had been used already: ID
	// and Timestamp are its first answer, and nothing was stored.
	Replayed bool
	// ID and Timestamp are the first answer: the entry's own when Added;
	// otherwise those of the message stored first under the same
	// idempotency key, or with the same id. Timestamp is empty when it is
	// not known (an entry stored by an older notifyd, or without
	// Entry.Timestamp).
	ID, Timestamp string
	// Seq is the entry's place in its site's order when Added with the
	// inbox on (Config.DeliveryChannel); 0 otherwise.
	Seq int64
}

// Idempotency names a publication for AppendPublishOnce, so that a retry
// gets the first answer instead of a new message.
type Idempotency struct {
	// Key is the idempotency key, in the caller's namespace: callers that
	// must not collide (the API's publisher tokens) prefix it with their
	// own scope. Only its SHA-256 is stored. Empty: no key.
	Key string
	// Fingerprint identifies the message: a key used again with another
	// fingerprint fails with ErrIdempotencyConflict. Optional.
	Fingerprint string
}

// AppendPublishOnce is the publisher's one round trip: one script stores e
// in its site's list and PUBLISHes its stored form on channel (when not
// empty), atomically, unless the message was stored already; then it
// reports the first answer (Result).
//
// A message is already stored when idem.Key was used within the
// IdempotencyWindow (Result.Replayed; a different idem.Fingerprint fails
// with ErrIdempotencyConflict), or when e.ID was stored within the
// DedupWindow. The key is taken in the same script as the message is
// stored, and only when storing and publishing succeeded, so a failed call
// (its error returned) leaves nothing behind and a retry stores the
// message. The key lives in the site's Cluster slot ("{<list key>}:idem:"
// and the key's hash), so one key used for two sites names two
// publications.
//
// Errors are Append's, plus ErrIdempotencyConflict.
func (s *Store) AppendPublishOnce(ctx context.Context, channel string, e Entry, idem Idempotency) (Result, error) {
	return s.run(ctx, fmt.Sprintf("append and publish %q", channel), e, channel, idem)
}

// first is the idempotency key's value: the first answer, and the
// fingerprint of the message that got it.
type first struct {
	ID          string `json:"i"`
	Timestamp   string `json:"t"`
	Fingerprint string `json:"f,omitempty"`
}

// run runs the append script for one entry, with the optional channel and
// idempotency key.
func (s *Store) run(ctx context.Context, op string, e Entry, channel string, idem Idempotency) (Result, error) {
	if err := s.check(e); err != nil {
		return Result{}, err
	}
	var key, value string
	if idem.Key != "" {
		key = s.idemKey(s.ListKey(e.Host), idem.Key)
		v, err := json.Marshal(first{ID: e.ID, Timestamp: e.Timestamp, Fingerprint: idem.Fingerprint})
		if err != nil {
			return Result{}, fmt.Errorf("history: %s: %w", op, err)
		}
		value = string(v)
	}
	keys, args := s.scriptArgs(e, channel, key, value)
	v, err := s.script.Run(ctx, s.rdb, keys, args...).Result()
	if err != nil {
		return Result{}, unavailable(ctx, op, err)
	}
	r, firstValue, err := parseReply(v, e)
	if err != nil {
		return Result{}, unavailable(ctx, op, err)
	}
	s.count(r.Added)
	if r.Replayed {
		f, ok := decodeFirst(firstValue)
		if !ok {
			return Result{}, unavailable(ctx, op, fmt.Errorf("undecodable idempotency key value %q", firstValue))
		}
		if f.Fingerprint != idem.Fingerprint {
			return Result{}, fmt.Errorf("history: %s: %w", op, ErrIdempotencyConflict)
		}
		r.ID, r.Timestamp = f.ID, f.Timestamp
	}
	return r, nil
}

// parseReply reads a reply of the append script for e; for a replay it
// also returns the idempotency key's value, to be decoded by the caller.
func parseReply(v any, e Entry) (r Result, firstValue string, err error) {
	switch v := v.(type) {
	case int64:
		if v == 1 {
			return Result{Added: true, ID: e.ID, Timestamp: e.Timestamp}, "", nil
		}
	case []any:
		if len(v) != 2 {
			break
		}
		code, _ := v[0].(int64)
		if seq, ok := v[1].(int64); ok && code == 1 {
			return Result{Added: true, ID: e.ID, Timestamp: e.Timestamp, Seq: seq}, "", nil
		}
		value, ok := v[1].(string)
		switch {
		case !ok:
		case code == 0:
			return Result{ID: e.ID, Timestamp: firstTimestamp(value)}, "", nil
		case code == 2:
			return Result{Replayed: true}, value, nil
		}
	}
	return Result{}, "", fmt.Errorf("unexpected script reply %v", v)
}

// firstTimestamp returns the timestamp a seen key holds, or "" for the "1"
// older versions stored.
func firstTimestamp(seen string) string {
	if seen == "1" {
		return ""
	}
	return seen
}

// decodeFirst decodes the value of an idempotency key.
func decodeFirst(value string) (first, bool) {
	var f first
	if err := json.Unmarshal([]byte(value), &f); err != nil || f.ID == "" {
		return first{}, false
	}
	return f, true
}

// idemKey returns the Redis key of the idempotency key key in the list
// listKey: in the list's Cluster slot, named by the key's SHA-256 so that
// its length is fixed whatever the caller sends.
func (s *Store) idemKey(listKey, key string) string {
	sum := sha256.Sum256([]byte(key))
	return "{" + listKey + "}:idem:" + base64.RawURLEncoding.EncodeToString(sum[:])
}

// AppendBatch appends many entries in one round trip (a pipeline of EVALSHA,
// plus one of EVAL when Redis had not cached the script): one script run
// per entry, or with the inbox on one run per site for up to 128 of its
// entries (storeBatchLua). added[i] reports whether entries[i] was stored
// by this call.
//
// When some entries fail, the error is a *BatchError saying which (see
// EntryError); added is still valid for the others. It matches
// ErrUnavailable when Redis failed, message.ErrInvalid when an entry has no
// id. Storage is idempotent: retrying failed entries stores each exactly
// once.
func (s *Store) AppendBatch(ctx context.Context, entries []Entry) (added []bool, err error) {
	added = make([]bool, len(entries))
	errs := make([]error, len(entries))
	var send []int // indexes of the entries sent to Redis
	for i, e := range entries {
		if errs[i] = s.check(e); errs[i] == nil {
			send = append(send, i)
		}
	}
	if s.delivery != "" {
		s.appendBatchInbox(ctx, entries, send, added, errs)
	} else {
		s.appendBatchEach(ctx, entries, send, added, errs)
	}
	failed := false
	for _, i := range send {
		failed = failed || errs[i] != nil
	}
	if failed || len(send) < len(entries) {
		return added, &BatchError{Errs: errs}
	}
	return added, nil
}

// appendBatchEach stores entries[i], i in send, one script run each (a
// pipeline of EVALSHA, plus one of EVAL when Redis had not cached the
// script), recording the outcomes in added and errs.
func (s *Store) appendBatchEach(ctx context.Context, entries []Entry, send []int, added []bool, errs []error) {
	cmds := make([]*redis.Cmd, len(entries))
	s.pipeline(ctx, entries, send, cmds, false)
	var retry []int
	for _, i := range send {
		if redis.HasErrorPrefix(cmds[i].Err(), "NOSCRIPT") {
			retry = append(retry, i)
		}
	}
	// EVAL sends the source, which also caches it for the next EVALSHA.
	s.pipeline(ctx, entries, retry, cmds, true)
	for _, i := range send {
		v, err := cmds[i].Result()
		var r Result
		if err == nil {
			r, _, err = parseReply(v, entries[i])
		}
		if err != nil {
			errs[i] = unavailable(ctx, "append batch", err)
			continue
		}
		added[i] = r.Added
		s.count(added[i])
	}
}

// pipeline runs the script for entries[i] for each i in which, in one round
// trip, into cmds[i]; errors are left in the commands.
func (s *Store) pipeline(ctx context.Context, entries []Entry, which []int, cmds []*redis.Cmd, eval bool) {
	if len(which) == 0 {
		return
	}
	_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, i := range which {
			keys, args := s.scriptArgs(entries[i], "", "", "")
			if eval {
				cmds[i] = s.script.Eval(ctx, p, keys, args...)
			} else {
				cmds[i] = s.script.EvalSha(ctx, p, keys, args...)
			}
		}
		return nil
	})
}
