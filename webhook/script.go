package webhook

import "github.com/redis/go-redis/v9"

// registerScript: KEYS regs, owner set; ARGV max per owner, id, record.
// Returns 0 when the owner has max registrations already.
var registerScript = redis.NewScript(`
if redis.call('SCARD', KEYS[2]) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('SADD', KEYS[2], ARGV[2])
return 1
`)

// listScript: KEYS regs, owner set. Returns the owner's records.
var listScript = redis.NewScript(`
local ids = redis.call('SMEMBERS', KEYS[2])
if #ids == 0 then return {} end
return redis.call('HMGET', KEYS[1], unpack(ids))
`)

// deleteScript: KEYS regs, owner set; ARGV id. Returns 0 when the owner
// has no such registration.
var deleteScript = redis.NewScript(`
if redis.call('SREM', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
`)

// enqueueScript: KEYS stream, seen; ARGV dedup window ms, max stream
// length, host, space, event id, enqueue time ms, body, registration ids.
// Queues one job per registration unless the event was seen; returns how
// many. The seen key is set last: a script that fails half-way (OOM)
// leaves it unset, so a retried Enqueue queues again (at least once).
var enqueueScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
for i = 8, #ARGV do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*',
    'h', ARGV[3], 'r', ARGV[i], 's', ARGV[4], 'e', ARGV[5], 't', ARGV[6], 'b', ARGV[7])
end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
return #ARGV - 7
`)

// retryScript: KEYS stream, retry set; ARGV group, consumer, job id, due
// time ms, the job's fields as netstrings (see job.payload). If consumer
// still holds the job, acknowledges and deletes it and schedules its
// fields in the retry set at the due time; returns 0 when it does not
// (another dispatcher took it over).
var retryScript = redis.NewScript(`
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1, ARGV[2])
if #p == 0 then return 0 end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
redis.call('XDEL', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])
return 1
`)

// promoteScript: KEYS stream, retry set; ARGV now ms, limit, max stream
// length. Moves up to limit jobs due by now from the retry set back to the
// stream, in one atomic step (so exactly one dispatcher moves each);
// returns how many.
var promoteScript = redis.NewScript(`
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, m in ipairs(due) do
  local f, i = {}, 1
  while i <= #m do
    local c = string.find(m, ':', i, true)
    if not c then break end
    local n = tonumber(string.sub(m, i, c - 1))
    f[#f + 1] = string.sub(m, c + 1, c + n)
    i = c + n + 2
  end
  if #f >= 2 and #f % 2 == 0 then
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', unpack(f))
  end
  redis.call('ZREM', KEYS[2], m)
end
return #due
`)

// ackScript: KEYS stream; ARGV group, job id. Acknowledges and deletes the
// job.
var ackScript = redis.NewScript(`
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return redis.call('XDEL', KEYS[1], ARGV[2])
`)

// leaveScript: KEYS stream; ARGV group, consumer. Deletes the consumer
// from the group when it holds no job (deleting a consumer drops its
// pending entries, so one that holds some stays for XAUTOCLAIM).
var leaveScript = redis.NewScript(`
local p = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if #p > 0 then return 0 end
return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
`)

// pruneScript: KEYS stream; ARGV group, idle ms, limit. Deletes up to
// limit consumers that hold no job and were idle for idle ms: those of
// dispatchers that died (each Dispatcher has its own name, so they would
// pile up). A live one deleted so is recreated by its next read, and one
// that holds jobs is never deleted (that would drop them).
var pruneScript = redis.NewScript(`
local n = 0
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local f = {}
  for i = 1, #c, 2 do f[c[i]] = c[i + 1] end
  if n < tonumber(ARGV[3]) and f['pending'] == 0 and f['idle'] > tonumber(ARGV[2]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], f['name'])
    n = n + 1
  end
end
return n
`)
