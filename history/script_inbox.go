package history

import (
	"slices"
	"strconv"
	"time"
)

// storeLua is the append script with the inbox on: the intake store. It
// decides exactly as appendLua does (idempotency key, then seen key; also
// the body hash, which outlives the seen key) and, for a new message:
//
//  1. INCR the site's seq: the message's place in the one order (first,
//     so that a seq of another type aborts before any write);
//  2. LPUSH PyAMS's list (undone on error, as appendLua); no seen key: the
//     body (step 4) remembers the id, and a body removed within the dedup
//     window leaves a seen key for the rest of it (trimLua);
//  3. PUBLISH the stored form on the channel when given (as appendLua), then
//     the delivery "m <seq> <stored>" on the delivery channel; a failure
//     undoes step 2 and returns the error (the seq is lost: seqs are
//     increasing, not dense);
//  4. HSET the body "{L}:m:<id>" (q seq, b stored, s sender, c category, p
//     principals "\n"-joined, ts seen value, at store time in ms), PEXPIRE
//     TTL plus a margin so that the age pruning below still finds its
//     principals (and at least the dedup window);
//  5. ZADD id (score seq) to each principal's index "{L}:i:<p>", PEXPIRE
//     TTL; ZADD it to the sender's sent index "{L}:o:<sender>" (trimmed to
//     the inbox length: counts leave the user's own messages out); ZADD the site log "{L}:l" (score seq) and the time index "{L}:t"
//     (score Redis TIME in ms); SET the idempotency key;
//  6. trim: each index to the inbox length by rank (the first 64 ids
//     dropped that are left in no index lose their body, log and time
//     entries), PyAMS's list to its length (LTRIM), and prune up to 64 ids
//     older than TTL from the time index, their indexes, body and log.
//
// Every key is built from the prefix "{L}:" (ARGV[8]) and so lives in the
// slot of KEYS[1], the list: Redis Cluster accepts undeclared keys of the
// script's own slot.
//
// KEYS and ARGV[1..7] are appendLua's; ARGV[8] prefix, ARGV[9] id, ARGV[10]
// delivery channel, ARGV[11] index length, ARGV[12] TTL ms, ARGV[13] body
// TTL ms, ARGV[14] sender, ARGV[15] category, ARGV[16..] principals. It
// returns {1, seq} when it stored the message, appendLua's replies
// otherwise.
const storeLua = decideLua + `
local pfx, id = ARGV[8], ARGV[9]
local body = pfx .. 'm:' .. id
local ts = redis.call('HGET', body, 'ts')
if ts then
  return {0, ts}
end
local chat = ARGV[15] == '` + ChatCategory + `'
local seq = redis.call('INCR', pfx .. 'seq')
if not chat then
  local pushed = redis.pcall('LPUSH', KEYS[1], ARGV[2])
  if type(pushed) == 'table' and pushed.err then
    return pushed
  end
end
local sends = {}
if ARGV[5] ~= '' then
  sends[1] = {ARGV[5], ARGV[2]}
end
sends[#sends + 1] = {ARGV[10], 'm ' .. seq .. ' ' .. ARGV[2]}
for _, s in ipairs(sends) do
  local sent = redis.pcall('PUBLISH', s[1], s[2])
  if type(sent) == 'table' and sent.err then
    if not chat then
      redis.call('LPOP', KEYS[1])
    end
    return sent
  end
end
local length, ttl = tonumber(ARGV[11]), ARGV[12]
local ps = {}
for i = 16, #ARGV do
  ps[#ps + 1] = ARGV[i]
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', body, 'q', seq, 'b', ARGV[2], 's', ARGV[14], 'c', ARGV[15], 'p', table.concat(ps, '\n'), 'ts', ARGV[4], 'at', now)
redis.call('PEXPIRE', body, ARGV[13])
for _, p in ipairs(ps) do
  local idx = pfx .. 'i:' .. p
  redis.call('ZADD', idx, seq, id)
  redis.call('PEXPIRE', idx, ttl)
end
if ARGV[14] ~= '' and not chat then
  local own = pfx .. 'o:' .. ARGV[14]
  redis.call('ZADD', own, seq, id)
  if redis.call('ZCARD', own) > length then
    redis.call('ZREMRANGEBYRANK', own, 0, -length - 1)
  end
  redis.call('PEXPIRE', own, ttl)
end
redis.call('ZADD', pfx .. 'l', seq, id)
redis.call('PEXPIRE', pfx .. 'l', ARGV[13])
redis.call('ZADD', pfx .. 't', now, id)
redis.call('PEXPIRE', pfx .. 't', ARGV[13])
if KEYS[3] then
  redis.call('SET', KEYS[3], ARGV[6], 'PX', ARGV[7])
end
local window, most, idxs, listLength = ARGV[1], 64, {}, tonumber(ARGV[3])
for _, p in ipairs(ps) do
  idxs[#idxs + 1] = pfx .. 'i:' .. p
end
` + trimLua + `
return {1, seq}
`

// prefix returns the prefix of every inbox key of host: "{<list key>}:",
// whose hash tag puts them in the list's Cluster slot.
func (s *Store) prefix(host string) string { return "{" + s.ListKey(host) + "}:" }

// bodyTTL is how long a body is kept: the TTL plus a margin (the TTL
// itself, at most a day), so that the age pruning, which runs at each
// store, still finds the principals of a message it removes; and at least
// the dedup window, since the body is what remembers a stored id (a body
// removed earlier leaves a seen key for the rest of the window).
func (s *Store) bodyTTL() int64 {
	return max(s.inboxTTL+min(s.inboxTTL, (24*time.Hour).Milliseconds()), s.window)
}

// inboxArgs appends the store script's own arguments for e to args.
func (s *Store) inboxArgs(args []any, e Entry) []any {
	args = append(args, s.prefix(e.Host), e.ID, s.delivery, s.inboxLength, s.inboxTTL, s.bodyTTL(), e.Sender, e.Category)
	ps := slices.Clone(e.Principals)
	slices.Sort(ps)
	for _, p := range slices.Compact(ps) {
		args = append(args, p)
	}
	return args
}

// formatSeq is the decimal form of a seq.
func formatSeq(seq int64) string { return strconv.FormatInt(seq, 10) }
