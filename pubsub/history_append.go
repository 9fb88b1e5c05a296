package pubsub

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/message"
)

// appendLua stores a message once per id: the SET NX of the seen key is the
// arbiter, so however many gateways (or retries) run it for one id, only the
// first pushes. With a channel (ARGV[4]) it also PUBLISHes the stored form,
// in the same atomic step, so that the order of a site's list is the order
// in which its messages reach the subscribers; a duplicate is not published
// again (the first run did). Redis does not roll a script back, so a failed
// LPUSH (say WRONGTYPE) or PUBLISH (say an ACL refusing the channel) is
// undone by hand (LPOP of the entry just pushed, DEL of the seen key) and its
// error returned: a retry must not mistake the failure for a stored
// duplicate. LTRIM comes last, when nothing can fail any more.
// KEYS[1] list, KEYS[2] seen key; ARGV[1] window in ms, ARGV[2] stored form,
// ARGV[3] list length, ARGV[4] (optional) channel.
const appendLua = `
if not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then
  return 0
end
local pushed = redis.pcall('LPUSH', KEYS[1], ARGV[2])
if type(pushed) == 'table' and pushed.err then
  redis.call('DEL', KEYS[2])
  return pushed
end
if ARGV[4] then
  local sent = redis.pcall('PUBLISH', ARGV[4], ARGV[2])
  if type(sent) == 'table' and sent.err then
    redis.call('LPOP', KEYS[1])
    redis.call('DEL', KEYS[2])
    return sent
  end
end
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[3]) - 1)
return 1
`

// newAppendScript returns the script; each History holds its own so that
// there is no package-level state.
func newAppendScript() *redis.Script { return redis.NewScript(appendLua) }

// Append stores the stored form of message id in the list of host, unless an
// entry with the same id was appended within the dedup window. It reports
// whether this call stored it. Redis errors match ErrUnavailable; a missing id
// or a host with braces match message.ErrInvalid.
func (h *History) Append(ctx context.Context, host, id string, stored []byte) (added bool, err error) {
	if err := checkEntry(host, id); err != nil {
		return false, err
	}
	keys, args := h.scriptArgs(host, id, stored)
	n, err := h.script.Run(ctx, h.rdb, keys, args...).Int64()
	if err != nil {
		return false, unavailable(ctx, "history append", err)
	}
	h.count(n == 1)
	return n == 1, nil
}

// appendPublish is Append that also PUBLISHes stored on channel, in the
// same script, when (and only when) it stores it: see appendLua. It is the
// Publisher's one round trip. Redis errors match ErrUnavailable.
func (h *History) appendPublish(ctx context.Context, channel, host, id string, stored []byte) (added bool, err error) {
	if err := checkEntry(host, id); err != nil {
		return false, err
	}
	keys, args := h.scriptArgs(host, id, stored)
	n, err := h.script.Run(ctx, h.rdb, keys, append(args, channel)...).Int64()
	if err != nil {
		return false, unavailable(ctx, fmt.Sprintf("history append and publish %q", channel), err)
	}
	h.count(n == 1)
	return n == 1, nil
}

// AppendBatch appends many entries in one round trip (a pipeline of EVALSHA,
// plus one of EVAL when Redis had not cached the script). added[i] reports
// whether entries[i] was stored by this call.
//
// When some entries fail, the error is a *BatchError saying which; added is
// still valid for the others. It matches ErrUnavailable when Redis failed,
// message.ErrInvalid when an entry has no id. Storage is idempotent: retrying
// failed entries stores each exactly once.
func (h *History) AppendBatch(ctx context.Context, entries []Entry) (added []bool, err error) {
	added = make([]bool, len(entries))
	errs := make([]error, len(entries))
	cmds := make([]*redis.Cmd, len(entries))
	var send []int // indexes of the entries sent to Redis
	for i, e := range entries {
		if errs[i] = checkEntry(e.Host, e.ID); errs[i] == nil {
			send = append(send, i)
		}
	}
	h.pipeline(ctx, entries, send, cmds, false)
	var retry []int
	for _, i := range send {
		if redis.HasErrorPrefix(cmds[i].Err(), "NOSCRIPT") {
			retry = append(retry, i)
		}
	}
	// EVAL sends the source, which also caches it for the next EVALSHA.
	h.pipeline(ctx, entries, retry, cmds, true)
	failed := false
	for _, i := range send {
		n, err := cmds[i].Int64()
		if err != nil {
			errs[i], failed = unavailable(ctx, "history append batch", err), true
			continue
		}
		added[i] = n == 1
		h.count(added[i])
	}
	if failed || len(send) < len(entries) {
		return added, &BatchError{Errs: errs}
	}
	return added, nil
}

// BatchError is the error of an AppendBatch in which some entries failed.
type BatchError struct {
	// Errs[i] is the error of entries[i], nil for entries that succeeded.
	Errs []error
}

// Error summarises the failures.
func (e *BatchError) Error() string {
	var first error
	n := 0
	for _, err := range e.Errs {
		if err != nil {
			if first == nil {
				first = err
			}
			n++
		}
	}
	return fmt.Sprintf("pubsub: history append batch: %d of %d entries failed, first: %v", n, len(e.Errs), first)
}

// Unwrap returns the entries' errors, so that errors.Is sees ErrUnavailable
// or message.ErrInvalid.
func (e *BatchError) Unwrap() []error {
	var out []error
	for _, err := range e.Errs {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// pipeline runs the script for entries[i] for each i in which, in one round
// trip, into cmds[i]; errors are left in the commands.
func (h *History) pipeline(ctx context.Context, entries []Entry, which []int, cmds []*redis.Cmd, eval bool) {
	if len(which) == 0 {
		return
	}
	_, _ = h.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, i := range which {
			e := entries[i]
			keys, args := h.scriptArgs(e.Host, e.ID, e.Stored)
			if eval {
				cmds[i] = h.script.Eval(ctx, p, keys, args...)
			} else {
				cmds[i] = h.script.EvalSha(ctx, p, keys, args...)
			}
		}
		return nil
	})
}

func (h *History) scriptArgs(host, id string, stored []byte) ([]string, []any) {
	list := h.ListKey(host)
	return []string{list, h.seenKey(list, id)}, []any{h.window, stored, h.length}
}

func (h *History) count(added bool) {
	if added {
		h.added.Add(1)
	} else {
		h.duplicates.Add(1)
	}
}

// checkEntry rejects what would break exactly-once storage: an empty id, and
// braces in the host, which would move the seen key's Cluster hash tag.
func checkEntry(host, id string) error {
	if id == "" {
		return fmt.Errorf("pubsub: history append: %w", &message.FieldError{Field: "id", Reason: "is required"})
	}
	if strings.ContainsAny(host, "{}") {
		return fmt.Errorf("pubsub: history append: %w", &message.FieldError{Field: "host", Reason: "must not contain braces"})
	}
	return nil
}

// isPermanent reports whether err is a Redis error reply that retrying will
// not fix: WRONGTYPE (something else overwrote a list or seen key) or an ERR
// raised by the script itself. Errors keep their code when raised inside the
// script ("NOREPLICAS ... script: ..."), so connection errors, READONLY during
// a failover, OOM, NOREPLICAS, LOADING and the like are retried.
func isPermanent(err error) bool {
	var rerr redis.Error
	if !errors.As(err, &rerr) {
		return false
	}
	code, rest, _ := strings.Cut(rerr.Error(), " ")
	return code == "WRONGTYPE" || (code == "ERR" && strings.Contains(rest, "script"))
}
