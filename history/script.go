package history

import "github.com/redis/go-redis/v9"

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

// newAppendScript returns the script; each Store holds its own so that
// there is no package-level state.
func newAppendScript() *redis.Script { return redis.NewScript(appendLua) }

// scriptArgs returns the keys and arguments of the append script for one
// entry, without the optional channel.
func (s *Store) scriptArgs(host, id string, stored []byte) ([]string, []any) {
	list := s.ListKey(host)
	return []string{list, s.seenKey(list, id)}, []any{s.window, stored, s.length}
}
