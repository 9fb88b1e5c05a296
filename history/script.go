package history

import "github.com/redis/go-redis/v9"

// appendLua stores a message once per id and, with an idempotency key,
// once per key.
//
// With an idempotency key (KEYS[3]), a key already taken answers at once
// with the first answer it holds ({2, value}). Otherwise the seen key of
// the id is the arbiter: when it exists the id was stored already and the
// script answers with its value ({0, value}: the first timestamp), so
// however many gateways (or retries) run it for one id, only the first
// pushes. With a channel (ARGV[5] not empty) it also PUBLISHes the stored
// form, in the same atomic step, so that the order of a site's list is the
// order in which its messages reach the subscribers; a duplicate is not
// published again (the first run did).
//
// Redis does not roll a script back, so a failed LPUSH (say WRONGTYPE) or
// PUBLISH (say an ACL refusing the channel) is undone by hand (LPOP of the
// entry just pushed, DEL of the seen key) and its error returned: a retry
// must not mistake the failure for a stored duplicate. The idempotency key
// is only taken once the message is stored and published, in the same
// script, so no failure can leave a key pointing at a message that was not
// stored. LTRIM comes last, when nothing can fail any more.
//
// KEYS[1] list, KEYS[2] seen key, KEYS[3] (optional) idempotency key, all
// with the list key as hash tag (one Cluster slot); ARGV[1] dedup window in
// ms, ARGV[2] stored form, ARGV[3] list length, ARGV[4] seen value (the
// message's timestamp), ARGV[5] channel or "", ARGV[6] idempotency value
// (the first answer), ARGV[7] idempotency window in ms.
// It returns 1 when it stored the message.
const appendLua = `
if KEYS[3] then
  local first = redis.call('GET', KEYS[3])
  if first then
    return {2, first}
  end
end
local seen = redis.call('GET', KEYS[2])
if seen then
  return {0, seen}
end
redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[1])
local pushed = redis.pcall('LPUSH', KEYS[1], ARGV[2])
if type(pushed) == 'table' and pushed.err then
  redis.call('DEL', KEYS[2])
  return pushed
end
if ARGV[5] ~= '' then
  local sent = redis.pcall('PUBLISH', ARGV[5], ARGV[2])
  if type(sent) == 'table' and sent.err then
    redis.call('LPOP', KEYS[1])
    redis.call('DEL', KEYS[2])
    return sent
  end
end
if KEYS[3] then
  redis.call('SET', KEYS[3], ARGV[6], 'PX', ARGV[7])
end
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[3]) - 1)
return 1
`

// newAppendScript returns the script; each Store holds its own so that
// there is no package-level state.
func newAppendScript() *redis.Script { return redis.NewScript(appendLua) }

// scriptArgs returns the keys and arguments of the append script for one
// entry, published on channel when it is not empty, with the idempotency
// key and value when key is not empty.
func (s *Store) scriptArgs(e Entry, channel, key, value string) ([]string, []any) {
	list := s.ListKey(e.Host)
	keys := []string{list, s.seenKey(list, e.ID)}
	if key != "" {
		keys = append(keys, key)
	}
	args := []any{s.window, e.Stored, s.length, seenValue(e), channel, value, s.idemWindow}
	if s.delivery != "" {
		args = s.inboxArgs(args, e)
	}
	return keys, args
}

// check validates e before it is stored.
func (s *Store) check(e Entry) error {
	if err := checkEntry(e.Host, e.ID); err != nil {
		return err
	}
	if s.delivery != "" {
		return checkInboxEntry(e)
	}
	return nil
}

// seenValue is what the seen key of e holds: its timestamp, reported to a
// duplicate as the first answer. Older versions stored "1", which is not a
// timestamp: a duplicate of such an entry gets no first timestamp.
func seenValue(e Entry) string {
	if e.Timestamp == "" {
		return "1"
	}
	return e.Timestamp
}
