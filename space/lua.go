package space

import "github.com/redis/go-redis/v9"

// The scripts of the package. Each has one key, KEYS[1] (a space hash
// "<P>s:<id>" or a message record "<P>sx:<msgid>"), and builds every other
// key from the prefix <P> (ARGV[1]), which carries the site's hash tag: a
// script touches one Cluster slot and runs atomically. Each answers a
// table whose first element is "ok" or a status that scriptErr maps.

// The Lua helpers every space script starts with.
const luaHead = `
local pfx, id = ARGV[1], ARGV[2]
local s, sm = KEYS[1], pfx .. 'sm:' .. id
local function us(p) return pfx .. 'us:' .. p end
local function sr(p) return pfx .. 'sr:' .. p end
-- name records the display name of p, a member of a direct space.
local function name(p, title)
  if redis.call('HGET', s, 'p1') == p then
    redis.call('HSET', s, 't1', title)
  elseif redis.call('HGET', s, 'p2') == p then
    redis.call('HSET', s, 't2', title)
  end
end
`

// createLua: ARGV pfx id kind title created nowms maxSpaces name member...
// (the first member is the creator: a moderator of a group space).
var createLua = redis.NewScript(luaHead + `
local kind, first = ARGV[3], 9
if redis.call('EXISTS', s) == 1 then
  if kind == 'direct' then
    name(ARGV[first], ARGV[8])
  end
  return {'exists'}
end
for i = first, #ARGV do
  if redis.call('ZCARD', us(ARGV[i])) >= tonumber(ARGV[7]) then
    return {'toomany', ARGV[i]}
  end
end
redis.call('HSET', s, 'title', ARGV[4], 'kind', kind, 'created', ARGV[5], 'act', ARGV[6], 'creator', ARGV[first], 'n', 0)
if kind == 'direct' then
  redis.call('HSET', s, 'p1', ARGV[first], 'p2', ARGV[first + 1], 't1', ARGV[8])
end
for i = first, #ARGV do
  local mod = '0'
  if i == first and kind ~= 'direct' then
    mod = '1'
  end
  redis.call('HSET', sm, ARGV[i], mod)
  redis.call('ZADD', us(ARGV[i]), ARGV[6], id)
  redis.call('HSET', sr(ARGV[i]), id, 0)
end
return {'ok'}
`)

// checkMod is the common check of moderator scripts: the space exists, the
// caller (ARGV[3]) is a member, it is a group space and the caller a
// moderator.
const checkMod = `
if redis.call('EXISTS', s) == 0 then return {'nf'} end
local cm = redis.call('HGET', sm, ARGV[3])
if not cm then return {'nf'} end
if redis.call('HGET', s, 'kind') == 'direct' then return {'direct'} end
`

// joinLua: ARGV pfx id caller principal mod nowms maxMembers maxSpaces ->
// {'ok', joined 1|0}.
var joinLua = redis.NewScript(luaHead + checkMod + `
if cm ~= '1' then return {'forbidden'} end
local p = ARGV[4]
if p == ARGV[3] and ARGV[5] ~= '1' then return {'self'} end
local old = redis.call('HGET', sm, p)
if not old then
  if redis.call('HLEN', sm) >= tonumber(ARGV[7]) then return {'full', ARGV[7]} end
  if redis.call('ZCARD', us(p)) >= tonumber(ARGV[8]) then return {'toomany', p} end
  redis.call('ZADD', us(p), ARGV[6], id)
  redis.call('HSET', sr(p), id, redis.call('HGET', s, 'n') or '0')
end
redis.call('HSET', sm, p, ARGV[5])
if old then return {'ok', 0} end
return {'ok', 1}
`)

// leaveLua: ARGV pfx id caller principal -> {'ok', promoted principal or
// ”, deleted 1|0}. The last moderator leaving promotes the member who
// joined first; the last member leaving deletes the space.
var leaveLua = redis.NewScript(luaHead + checkMod + `
local p = ARGV[4]
if p ~= ARGV[3] and cm ~= '1' then return {'forbidden'} end
local pm = redis.call('HGET', sm, p)
if not pm then return {'nfp', p} end
redis.call('HDEL', sm, p)
redis.call('ZREM', us(p), id)
redis.call('HDEL', sr(p), id)
if redis.call('HLEN', sm) == 0 then
  redis.call('DEL', s, sm)
  return {'ok', '', 1}
end
local promoted = ''
if pm == '1' then
  local rest = redis.call('HGETALL', sm)
  local best, bestAt = nil, nil
  for i = 1, #rest, 2 do
    if rest[i + 1] == '1' then
      return {'ok', '', 0}
    end
    local at = tonumber(redis.call('ZSCORE', us(rest[i]), id) or '0')
    if not best or at < bestAt or (at == bestAt and rest[i] < best) then
      best, bestAt = rest[i], at
    end
  end
  redis.call('HSET', sm, best, '1')
  promoted = best
end
return {'ok', promoted, 0}
`)

// deleteLua: ARGV pfx id caller -> {'ok', member...}.
var deleteLua = redis.NewScript(luaHead + checkMod + `
if cm ~= '1' then return {'forbidden'} end
local out = {'ok'}
for _, p in ipairs(redis.call('HKEYS', sm)) do
  redis.call('ZREM', us(p), id)
  redis.call('HDEL', sr(p), id)
  out[#out + 1] = p
end
redis.call('DEL', s, sm)
return out
`)

// renameLua: ARGV pfx id caller title -> {'ok'}.
var renameLua = redis.NewScript(luaHead + checkMod + `
if cm ~= '1' then return {'forbidden'} end
redis.call('HSET', s, 'title', ARGV[4])
return {'ok'}
`)

// sendLua: ARGV pfx id sender msgid thread assignee ttlms last nowms name
// -> {'ok', n, title, kind, prevLast, prevLid, prevAct}: checks the sender
// (a member), the assignee (a member) and the thread (a top-level message
// of the space), then counts the message, records it (sx) and makes it
// the space's last and the sender's read cursor.
var sendLua = redis.NewScript(luaHead + `
if redis.call('EXISTS', s) == 0 then return {'nf'} end
local sender, msg, thread, assignee = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
if not redis.call('HGET', sm, sender) then return {'nf'} end
if assignee ~= '' and not redis.call('HGET', sm, assignee) then return {'assignee'} end
if thread ~= '' then
  local t = redis.call('HMGET', pfx .. 'sx:' .. thread, 'space', 'thread')
  if t[1] ~= id or (t[2] and t[2] ~= '') then return {'thread'} end
end
local skey = ''
if ARGV[11] ~= '' then
  skey = pfx .. 'sk:' .. ARGV[11]
  local rec = redis.call('HMGET', skey, 'id', 'ts', 'h')
  if rec[1] then
    if rec[3] ~= ARGV[12] then return {'conflict'} end
    local p = redis.call('HMGET', s, 'title', 'kind')
    return {'dup', rec[1], rec[2], p[1] or '', p[2] or ''}
  end
end
local n = redis.call('HINCRBY', s, 'n', 1)
local prev = redis.call('HMGET', s, 'last', 'lid', 'act', 'title', 'kind')
redis.call('HSET', s, 'last', ARGV[8], 'lid', msg, 'act', ARGV[9])
if prev[5] == 'direct' then
  name(sender, ARGV[10])
end
local sx = pfx .. 'sx:' .. msg
redis.call('HSET', sx, 'space', id, 'sender', sender, 'thread', thread, 'n', n)
redis.call('PEXPIRE', sx, ARGV[7])
if n > tonumber(redis.call('HGET', sr(sender), id) or '0') then
  redis.call('HSET', sr(sender), id, n)
end
if skey ~= '' then
  redis.call('HSET', skey, 'id', msg, 'ts', ARGV[13], 'h', ARGV[12])
  redis.call('PEXPIRE', skey, ARGV[14])
end
return {'ok', n, prev[4] or '', prev[5] or '', prev[1] or '', prev[2] or '', prev[3] or ''}
`)

// relastLua: ARGV pfx id msgid last lid act drop -> {'ok'}: when msgid is
// still the space's last message, replace it with last (lid, act; none
// when lid is empty); with drop "1", also delete msgid's record and
// reactions. Used to undo a failed send, and after an edit or a delete.
var relastLua = redis.NewScript(luaHead + `
local msg = ARGV[3]
if redis.call('EXISTS', s) == 1 and redis.call('HGET', s, 'lid') == msg then
  if ARGV[5] == '' then
    redis.call('HDEL', s, 'last', 'lid')
  else
    redis.call('HSET', s, 'last', ARGV[4], 'lid', ARGV[5])
  end
  if ARGV[6] ~= '' then
    redis.call('HSET', s, 'act', ARGV[6])
  end
end
if ARGV[7] == '1' then
  redis.call('DEL', pfx .. 'sx:' .. msg, pfx .. 'r:' .. msg, pfx .. 'rp:' .. msg)
end
return {'ok'}
`)

// readLua: ARGV pfx id reader until -> {'ok', unread}.
var readLua = redis.NewScript(luaHead + `
if redis.call('EXISTS', s) == 0 or not redis.call('HGET', sm, ARGV[3]) then return {'nf'} end
local v = redis.call('HMGET', pfx .. 'sx:' .. ARGV[4], 'space', 'n')
if v[1] ~= id then return {'nfm'} end
local q, cur = tonumber(v[2]), tonumber(redis.call('HGET', sr(ARGV[3]), id) or '0')
if q > cur then
  redis.call('HSET', sr(ARGV[3]), id, q)
  cur = q
end
return {'ok', math.max(0, tonumber(redis.call('HGET', s, 'n') or '0') - cur)}
`)

// msgLua: KEYS[1] the record sx:<msgid>; ARGV pfx msgid caller ->
// {'ok', space, sender, moderator '1'|'0'}; 'nfm' when the message is
// unknown or the caller not a member of its space.
var msgLua = redis.NewScript(`
local pfx = ARGV[1]
local v = redis.call('HMGET', KEYS[1], 'space', 'sender')
if not v[1] then return {'nfm'} end
local cm = redis.call('HGET', pfx .. 'sm:' .. v[1], ARGV[3])
if not cm then return {'nfm'} end
return {'ok', v[1], v[2], cm}
`)

// reactLua: KEYS[1] the record sx:<msgid>; ARGV pfx msgid caller emoji
// remove maxEmojis -> {'ok', space, count, changed 1|0}. Reactions are a
// hash "r:<msgid>" emoji -> count and a sorted set "rp:<msgid>" of
// "emoji\0principal" (score 0, in byte order), expiring with the record.
var reactLua = redis.NewScript(`
local pfx, msg, who, emoji = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local space = redis.call('HGET', KEYS[1], 'space')
if not space or not redis.call('HGET', pfx .. 'sm:' .. space, who) then return {'nfm'} end
local rk, pk = pfx .. 'r:' .. msg, pfx .. 'rp:' .. msg
local member = emoji .. '\0' .. who
local changed = 0
if ARGV[5] == '1' then
  changed = redis.call('ZREM', pk, member)
  if changed == 1 and redis.call('HINCRBY', rk, emoji, -1) <= 0 then
    redis.call('HDEL', rk, emoji)
  end
elseif not redis.call('ZSCORE', pk, member) then
  if redis.call('HEXISTS', rk, emoji) == 0 and redis.call('HLEN', rk) >= tonumber(ARGV[6]) then
    return {'emojis'}
  end
  redis.call('ZADD', pk, 0, member)
  redis.call('HINCRBY', rk, emoji, 1)
  changed = 1
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then
  redis.call('PEXPIRE', rk, ttl)
  redis.call('PEXPIRE', pk, ttl)
end
return {'ok', space, tonumber(redis.call('HGET', rk, emoji) or '0'), changed}
`)
