package history

// userLua is every read and change of one user's inbox on one site, in
// the site's slot (KEYS[1] is the user's state hash "{L}:u:<user>"; every
// other key is built from the prefix "{L}:"). ARGV[1] op, ARGV[2] prefix,
// ARGV[3] user, ARGV[4] count cap, ARGV[5] state TTL ms, ARGV[6] bound of
// the explicit read/unread sets, ARGV[7] n, ARGV[8..7+n] the reader's
// principals, then the op's arguments:
//
//	count                     -> {unread, unseen}
//	read id...                -> {unread, unseen}
//	readall                   -> {unread, unseen}
//	unread id...              -> {unread, unseen}
//	seen id                   -> {unread, unseen}
//	ack device id             -> 1
//	device device             -> id or ""
//	page limit mode cursor unreadOnly category maxScan length counts
//	   -> {'nf'} or {'ok', gap, next, prefs JSON, unread, unseen, seq, stored, read, ...}
//	      (unread and unseen 0 unless counts is '1')
//
// A cursor id (page, seen, ack, read, unread) counts only when its body is
// kept and one of its target principals is the reader's: any other id is
// ignored (page: 'nf' for before, a gap for after), so an unknown and an
// invisible id look the same.
const userLua = `
local op, pfx, user = ARGV[1], ARGV[2], ARGV[3]
local cap, ttl, setcap = tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])
local np = tonumber(ARGV[7])
local ps, isp = {}, {}
for i = 1, np do
  ps[i] = ARGV[7 + i]
  isp[ARGV[7 + i]] = true
end
local base = 8 + np
local ukey, urkey, uukey = KEYS[1], pfx .. 'ur:' .. user, pfx .. 'uu:' .. user

local function seqOf(id)
  local v = redis.call('HMGET', pfx .. 'm:' .. id, 'q', 'p')
  if not v[1] then
    return nil
  end
  for p in string.gmatch(v[2] or '', '[^\n]+') do
    if isp[p] then
      return tonumber(v[1])
    end
  end
  return nil
end

local function cursor(f)
  return tonumber(redis.call('HGET', ukey, f) or '0')
end

local function prefsRaw()
  return redis.call('GET', pfx .. 'pf:' .. user) or ''
end

local function muter(raw)
  local exact, prefixes = {}, {}
  if raw ~= '' then
    local ok, pf = pcall(cjson.decode, raw)
    if ok and type(pf) == 'table' and type(pf.muted) == 'table' then
      for _, m in ipairs(pf.muted) do
        if type(m) == 'string' then
          if #m >= 2 and string.sub(m, -2) == '.*' then
            prefixes[#prefixes + 1] = string.sub(m, 1, -2)
          else
            exact[m] = true
          end
        end
      end
    end
  end
  return function(c)
    if exact[c] then
      return true
    end
    for _, pr in ipairs(prefixes) do
      if #c >= #pr and string.sub(c, 1, #pr) == pr then
        return true
      end
    end
    return false
  end
end

local hasUR, hasUU = nil, nil
local function isRead(id, q, r)
  if hasUR == nil then
    hasUR = redis.call('EXISTS', urkey) == 1
    hasUU = redis.call('EXISTS', uukey) == 1
  end
  if q > r then
    return hasUR and redis.call('ZSCORE', urkey, id) ~= false
  end
  return not (hasUU and redis.call('ZSCORE', uukey, id) ~= false)
end

-- count reads the index entries above the read cursor (at most cap per
-- principal) and the explicit unread set: retracted and trimmed messages
-- are in no index; r's own messages are those of its sent index
-- "{L}:o:<user>"; a category is read only when r mutes some. Counts stop
-- at cap.
local function count()
  local r, s = cursor('r'), cursor('s')
  local raw = prefsRaw()
  local muted = nil
  if raw ~= '' then
    muted = muter(raw)
  end
  hasUR = redis.call('EXISTS', urkey) == 1
  hasUU = redis.call('EXISTS', uukey) == 1
  local own = {}
  for _, id in ipairs(redis.call('ZREVRANGEBYSCORE', pfx .. 'o:' .. user, '+inf', '-inf', 'LIMIT', 0, cap)) do
    own[id] = true
  end
  local cand = {}
  local unread, unseen = 0, 0
  local function add(id, q)
    if cand[id] or own[id] then
      return
    end
    cand[id] = true
    if q > r and hasUR and redis.call('ZSCORE', urkey, id) then
      return
    end
    if muted and muted(redis.call('HGET', pfx .. 'm:' .. id, 'c') or '') then
      return
    end
    unread = unread + 1
    if q > s then
      unseen = unseen + 1
    end
  end
  for _, p in ipairs(ps) do
    local v = redis.call('ZREVRANGEBYSCORE', pfx .. 'i:' .. p, '+inf', '(' .. r, 'WITHSCORES', 'LIMIT', 0, cap)
    for i = 1, #v, 2 do
      add(v[i], tonumber(v[i + 1]))
    end
  end
  if hasUU then
    local uu = redis.call('ZREVRANGE', uukey, 0, cap - 1, 'WITHSCORES')
    for i = 1, #uu, 2 do
      local id = uu[i]
      if not cand[id] then
        for _, p in ipairs(ps) do
          if redis.call('ZSCORE', pfx .. 'i:' .. p, id) then
            add(id, tonumber(uu[i + 1]))
            break
          end
        end
      end
    end
  end
  return {math.min(unread, cap), math.min(unseen, cap)}
end

local function touch()
  redis.call('PEXPIRE', ukey, ttl)
  redis.call('PEXPIRE', urkey, ttl)
  redis.call('PEXPIRE', uukey, ttl)
end

local function bound(key)
  local over = redis.call('ZCARD', key) - setcap
  if over > 0 then
    redis.call('ZREMRANGEBYRANK', key, 0, over - 1)
  end
end

if op == 'count' then
  return count()
elseif op == 'read' or op == 'unread' then
  local r = cursor('r')
  for i = base, #ARGV do
    local q = seqOf(ARGV[i])
    if q then
      if op == 'read' then
        if q > r then
          redis.call('ZADD', urkey, q, ARGV[i])
        end
        redis.call('ZREM', uukey, ARGV[i])
      else
        if q <= r then
          redis.call('ZADD', uukey, q, ARGV[i])
        end
        redis.call('ZREM', urkey, ARGV[i])
      end
    end
  end
  bound(urkey)
  bound(uukey)
  touch()
  return count()
elseif op == 'readall' then
  local seq = redis.call('GET', pfx .. 'seq') or '0'
  if tonumber(seq) > cursor('r') then
    redis.call('HSET', ukey, 'r', seq)
  end
  redis.call('DEL', urkey, uukey)
  touch()
  return count()
elseif op == 'seen' then
  local q = seqOf(ARGV[base])
  if q and q > cursor('s') then
    redis.call('HSET', ukey, 's', q)
    touch()
  end
  return count()
elseif op == 'ack' then
  local q = seqOf(ARGV[base + 1])
  local f = 'd:' .. ARGV[base]
  local cur = redis.call('HGET', ukey, f)
  if q and (not cur or q > tonumber(string.match(cur, '^%d+'))) then
    redis.call('HSET', ukey, f, q .. ' ' .. ARGV[base + 1])
    touch()
  end
  return 1
elseif op == 'device' then
  local cur = redis.call('HGET', ukey, 'd:' .. ARGV[base])
  if not cur then
    return ''
  end
  return string.match(cur, '^%d+ (.*)$') or ''
elseif op ~= 'page' then
  return redis.error_reply('ERR history script: unknown op ' .. op)
end

local limit, mode, cur = tonumber(ARGV[base]), ARGV[base + 1], ARGV[base + 2]
local unreadOnly, cat = ARGV[base + 3] == '1', ARGV[base + 4]
local maxScan, length = tonumber(ARGV[base + 5]), tonumber(ARGV[base + 6])
local withCounts = ARGV[base + 7] == '1'
local desc, gap, from = true, 0, '+inf'
local reverse = false
if mode == 'before' or mode == 'after' then
  local q = seqOf(cur)
  if not q then
    if mode == 'before' then
      return {'nf'}
    end
    gap, reverse = 1, true
  elseif mode == 'before' then
    from = '(' .. q
  else
    desc, from = false, '(' .. q
    for _, p in ipairs(ps) do
      local idx = pfx .. 'i:' .. p
      if redis.call('ZCARD', idx) >= length then
        local lo = redis.call('ZRANGE', idx, 0, 0, 'WITHSCORES')
        if lo[2] and tonumber(lo[2]) > q then
          gap = 1
        end
      end
    end
  end
end
local batch = math.min(limit + 16, 256)
local heads = {}
for i, p in ipairs(ps) do
  heads[i] = {key = pfx .. 'i:' .. p, buf = {}, pos = 1, from = from, done = false}
end
local function refill(h)
  local v
  if desc then
    v = redis.call('ZREVRANGEBYSCORE', h.key, h.from, '-inf', 'WITHSCORES', 'LIMIT', 0, batch)
  else
    v = redis.call('ZRANGEBYSCORE', h.key, h.from, '+inf', 'WITHSCORES', 'LIMIT', 0, batch)
  end
  h.buf, h.pos = v, 1
  if #v < 2 * batch then
    h.done = true
  else
    h.from = '(' .. v[#v]
  end
end
local r = cursor('r')
local items, n, scanned, last = {}, 0, 0, ''
local more = false
while n < limit do
  local best, bi = nil, nil
  for i, h in ipairs(heads) do
    if h.pos > #h.buf and not h.done then
      refill(h)
    end
    if h.pos <= #h.buf then
      local sc = tonumber(h.buf[h.pos + 1])
      if not best or (desc and sc > best) or (not desc and sc < best) then
        best, bi = sc, i
      end
    end
  end
  if not bi then
    break
  end
  if scanned >= maxScan then
    more = true
    break
  end
  local id = heads[bi].buf[heads[bi].pos]
  for _, h in ipairs(heads) do
    if h.pos <= #h.buf and tonumber(h.buf[h.pos + 1]) == best then
      h.pos = h.pos + 2
    end
  end
  scanned = scanned + 1
  last = id
  local v = redis.call('HMGET', pfx .. 'm:' .. id, 'b', 's', 'c', 'r')
  if v[1] and v[2] ~= user and v[4] ~= '1' and (cat == '' or v[3] == cat) then
    local read = isRead(id, best, r)
    if not (unreadOnly and read) then
      n = n + 1
      items[3 * n - 2], items[3 * n - 1], items[3 * n] = best, v[1], read and 1 or 0
    end
  end
end
if n >= limit then
  for _, h in ipairs(heads) do
    if h.pos <= #h.buf or not h.done then
      more = true
    end
  end
end
local next = ''
if more and not reverse then
  next = last
end
local out = {'ok', gap, next, prefsRaw()}
out[5], out[6] = 0, 0
if withCounts then
  local c = count()
  out[5], out[6] = c[1], c[2]
end
for k = 1, n do
  local j = k
  if reverse then
    j = n + 1 - k
  end
  out[#out + 1] = items[3 * j - 2]
  out[#out + 1] = items[3 * j - 1]
  out[#out + 1] = items[3 * j]
end
return out
`

// siteLua is the site-wide side of the inbox, in the site's slot (KEYS[1]
// is the site log "{L}:l"; the other keys are built from the prefix "{L}:",
// ARGV[2]). ARGV[1] op, then:
//
//	since prefix seq limit           -> {seq, stored, ...} stored after seq, oldest first, retracted skipped
//	retract prefix id channel refused -> {seq, stored}, {} (unknown or already retracted)
//	                                    or {0} (its category is refused, a non-empty ARGV[5]: left as it is)
//	update prefix id old new category channel -> seq, 0 (unknown or retracted) or -1 (changed since read: retry)
const siteLua = `
local op, pfx = ARGV[1], ARGV[2]
if op == 'since' then
  local out = {}
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[3], '+inf', 'LIMIT', 0, tonumber(ARGV[4]))) do
    local v = redis.call('HMGET', pfx .. 'm:' .. id, 'q', 'b', 'r')
    if v[1] and v[3] ~= '1' then
      out[#out + 1] = tonumber(v[1])
      out[#out + 1] = v[2]
    end
  end
  return out
end
local body = pfx .. 'm:' .. ARGV[3]
local v = redis.call('HMGET', body, 'q', 'b', 'p', 'r', 'c')
if op == 'retract' then
  if not v[1] or v[4] == '1' then
    return {}
  end
  if ARGV[5] and ARGV[5] ~= '' and v[5] == ARGV[5] then
    return {0}
  end
  for p in string.gmatch(v[3] or '', '[^\n]+') do
    redis.call('ZREM', pfx .. 'i:' .. p, ARGV[3])
  end
  redis.call('HSET', body, 'r', '1')
  redis.call('PUBLISH', ARGV[4], 'x ' .. v[1] .. ' ' .. v[2])
  return {tonumber(v[1]), v[2]}
elseif op == 'update' then
  if not v[1] or v[4] == '1' then
    return 0
  end
  if v[2] ~= ARGV[4] then
    return -1
  end
  redis.call('HSET', body, 'b', ARGV[5], 'c', ARGV[6])
  redis.call('PUBLISH', ARGV[7], 'u ' .. v[1] .. ' ' .. ARGV[5])
  return tonumber(v[1])
end
return redis.error_reply('ERR history script: unknown op ' .. op)
`
