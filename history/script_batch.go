package history

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/redis/go-redis/v9"
)

// batchMax is the most entries one run of the batch script stores: a run
// holds Redis for its whole length, so a long batch is cut into runs
// (pipelined in the same round trip) that let other clients in between.
const batchMax = 128

// storeBatchLua is storeLua for many entries of one site in one run, as
// AppendBatch stores the subscribers' intake (no channel, no idempotency
// key): each entry is decided as storeLua decides (a later entry with the
// id of an earlier one is a duplicate; the body decides, then a seen key,
// and a store sets none), stored with the keys storeLua writes, and
// published on the delivery channel in the entries' order, which is the
// site's order.
//
// Each command a script calls costs Redis a few microseconds beyond its own
// work, so what can be done once per run is: one EXISTS over every entry's
// body and seen key (when none exists, no entry was stored before: the
// common case needs no lookup per entry), one INCRBY for the seqs, one
// LPUSH of PyAMS's list, one ZADD (and PEXPIRE) per key touched
// (principals' indexes, senders' sent indexes, the site log and time
// index), then the trims and the pruning by age (up to 64 ids, plus one per
// message stored). Per message are left the PUBLISH and the body's HSET and
// PEXPIRE, done after the ZADDs: a message is published only once every
// index holds it, and a body (which marks an id as stored) is written only
// for a message published.
//
// Every write that a key of the wrong type (or an ACL) can refuse is
// guarded: an entry whose LPUSH, ZADD or PUBLISH fails gets that error as
// its reply (every entry of that LPUSH or ZADD gets it), and what it got
// is taken back (its list entry, its index entries), so it leaves nothing
// but a lost seq (seqs increase, they are not dense); a later copy of it in
// the run gets the same error. The INCRBY comes before any write: a seq of
// another type aborts the run with nothing written, and the caller then
// stores the run's entries one by one (each fails the same way). The trims
// guard their calls on keys the run did not write (see trimLua).
//
// KEYS[1] list, KEYS[1+i] the seen key of entry i. ARGV[1] dedup window in
// ms, ARGV[2] list length, ARGV[3] prefix "{L}:", ARGV[4] delivery channel,
// ARGV[5] index length, ARGV[6] TTL ms, ARGV[7] body TTL ms; then per
// entry: stored form, seen value, id, sender, category, the number of
// principals, the principals. It returns one reply per entry, storeLua's:
// {1, seq} stored, {0, seen value} a duplicate, or an error.
const storeBatchLua = `
local window, pfx, chan = ARGV[1], ARGV[3], ARGV[4]
local length, ttl, bttl = tonumber(ARGV[5]), ARGV[6], ARGV[7]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local replies, all, probe = {}, {}, {}
local a = 8
for i = 1, #KEYS - 1 do
  local e = {i = i, seen = KEYS[i + 1], b = ARGV[a], sv = ARGV[a + 1], id = ARGV[a + 2], sender = ARGV[a + 3], cat = ARGV[a + 4], ps = {}}
  local n = tonumber(ARGV[a + 5])
  for j = 1, n do
    e.ps[j] = ARGV[a + 5 + j]
  end
  a = a + 6 + n
  e.body = pfx .. 'm:' .. e.id
  e.listed = e.cat ~= '` + ChatCategory + `'
  all[i] = e
  probe[#probe + 1], probe[#probe + 2] = e.body, e.seen
end
local known = redis.call('EXISTS', unpack(probe)) > 0
local news, firsts, copies, bodies = {}, {}, {}, {}
for _, e in ipairs(all) do
  if firsts[e.id] then
    copies[#copies + 1] = {e, firsts[e.id]}
  else
    local ts = nil
    if known then
      ts = redis.call('HGET', e.body, 'ts') or redis.call('GET', e.seen)
    end
    if ts then
      replies[e.i] = {0, ts}
    else
      firsts[e.id] = e
      news[#news + 1] = e
      if e.listed then
        bodies[#bodies + 1] = e.b
      end
    end
  end
end
-- done answers a later copy of an entry of the run as its first: a
-- duplicate of it when it was stored, its error when it failed.
local function done()
  for _, c in ipairs(copies) do
    local r = replies[c[2].i]
    if r[1] == 1 then
      replies[c[1].i] = {0, c[2].sv}
    else
      replies[c[1].i] = r
    end
  end
  return replies
end
if #news == 0 then
  return done()
end
local seq = redis.call('INCRBY', pfx .. 'seq', #news) - #news
for _, e in ipairs(news) do
  seq = seq + 1
  e.seq = seq
end
-- fail answers e with err and takes back what e may have got: its list
-- entry, its entries in its indexes, the log and the time index (a ZREM
-- of an id a key does not hold changes nothing; one of the wrong type
-- refuses it, guarded).
local function fail(e, err)
  if replies[e.i] then
    return
  end
  replies[e.i] = err
  if e.pushed then
    redis.call('LREM', KEYS[1], 1, e.b)
  end
  for _, p in ipairs(e.ps) do
    redis.pcall('ZREM', pfx .. 'i:' .. p, e.id)
  end
  if e.sender ~= '' then
    redis.pcall('ZREM', pfx .. 'o:' .. e.sender, e.id)
  end
  redis.pcall('ZREM', pfx .. 'l', e.id)
  redis.pcall('ZREM', pfx .. 't', e.id)
end
if #bodies > 0 then
  local pushed = redis.pcall('LPUSH', KEYS[1], unpack(bodies))
  for _, e in ipairs(news) do
    if e.listed then
      if type(pushed) == 'table' and pushed.err then
        fail(e, pushed)
      else
        e.pushed = true
      end
    end
  end
end
local groups, order = {}, {}
local function add(key, e, own)
  local g = groups[key]
  if not g then
    g = {es = {}, own = own}
    groups[key] = g
    order[#order + 1] = key
  end
  g.es[#g.es + 1] = e
end
for _, e in ipairs(news) do
  if not replies[e.i] then
    for _, p in ipairs(e.ps) do
      add(pfx .. 'i:' .. p, e, false)
    end
    if e.sender ~= '' and e.listed then
      add(pfx .. 'o:' .. e.sender, e, true)
    end
  end
end
local idxs, senders = {}, {}
for _, key in ipairs(order) do
  local g, args, es = groups[key], {}, {}
  for _, e in ipairs(g.es) do -- an entry another index refused is out
    if not replies[e.i] then
      args[#args + 1], args[#args + 2] = e.seq, e.id
      es[#es + 1] = e
    end
  end
  if #es > 0 then
    local added = redis.pcall('ZADD', key, unpack(args))
    if type(added) == 'table' and added.err then
      for _, e in ipairs(es) do
        fail(e, added)
      end
    else
      redis.call('PEXPIRE', key, ttl)
      if g.own then
        senders[#senders + 1] = key
      else
        idxs[#idxs + 1] = key
      end
    end
  end
end
local log, times, left = {}, {}, {}
for _, e in ipairs(news) do
  if not replies[e.i] then
    log[#log + 1], log[#log + 2] = e.seq, e.id
    times[#times + 1], times[#times + 2] = now, e.id
    left[#left + 1] = e
  end
end
if #log == 0 then
  return done()
end
for _, z in ipairs({{pfx .. 'l', log}, {pfx .. 't', times}}) do
  local added = redis.pcall('ZADD', z[1], unpack(z[2]))
  if type(added) == 'table' and added.err then
    for _, e in ipairs(left) do
      fail(e, added)
    end
    return done()
  end
end
local stored = 0
for _, e in ipairs(left) do
  local sent = redis.pcall('PUBLISH', chan, 'm ' .. e.seq .. ' ' .. e.b)
  if type(sent) == 'table' and sent.err then
    fail(e, sent)
  else
    redis.call('HSET', e.body, 'q', e.seq, 'b', e.b, 's', e.sender, 'c', e.cat, 'p', table.concat(e.ps, '\n'), 'ts', e.sv, 'at', now)
    redis.call('PEXPIRE', e.body, bttl)
    replies[e.i] = {1, e.seq}
    stored = stored + 1
  end
end
if stored == 0 then
  return done()
end
redis.call('PEXPIRE', pfx .. 'l', bttl)
redis.call('PEXPIRE', pfx .. 't', bttl)
for _, own in ipairs(senders) do
  if redis.call('ZCARD', own) > length then
    redis.call('ZREMRANGEBYRANK', own, 0, -length - 1)
  end
end
local most, listLength = 64 + stored, tonumber(ARGV[2])
` + trimLua + `
return done()
`

// run is one run of the batch script: entries[which[k]] of one site.
type run struct {
	which []int
	cmd   *redis.Cmd
}

// appendBatchInbox is AppendBatch with the inbox on: the entries sent
// (send, indexes in entries) are grouped by site, in order, into runs of
// the batch script of up to batchMax entries, all pipelined in one round
// trip. A run that fails as a whole with a Redis error reply (a command
// the script does not guard, say WRONGTYPE on an index) is stored again
// entry by entry with storeLua, so that each entry gets its own outcome;
// one that fails otherwise (the connection) fails each of its entries.
func (s *Store) appendBatchInbox(ctx context.Context, entries []Entry, send []int, added []bool, errs []error) {
	var runs []*run
	open := make(map[string]*run) // the site's run still filling
	for _, i := range send {
		list := s.ListKey(entries[i].Host)
		r := open[list]
		if r == nil || len(r.which) == batchMax {
			r = &run{}
			open[list] = r
			runs = append(runs, r)
		}
		r.which = append(r.which, i)
	}
	s.pipelineRuns(ctx, entries, runs, false)
	var noscript []*run
	for _, r := range runs {
		if redis.HasErrorPrefix(r.cmd.Err(), "NOSCRIPT") {
			noscript = append(noscript, r)
		}
	}
	s.pipelineRuns(ctx, entries, noscript, true) // EVAL also caches the script
	var single []int                             // entries stored again one by one
	for _, r := range runs {
		v, err := r.cmd.Result()
		var rerr redis.Error
		if errors.As(err, &rerr) && ctx.Err() == nil {
			single = append(single, r.which...)
			continue
		}
		replies, ok := v.([]any)
		if err == nil && (!ok || len(replies) != len(r.which)) {
			err = fmt.Errorf("unexpected batch script reply %v", v)
		}
		for k, i := range r.which {
			if err != nil {
				errs[i] = unavailable(ctx, "append batch", err)
				continue
			}
			s.settleReply(ctx, replies[k], entries[i], i, added, errs)
		}
	}
	if len(single) == 0 {
		return
	}
	cmds := make([]*redis.Cmd, len(entries))
	s.pipeline(ctx, entries, single, cmds, true)
	for _, i := range single {
		v, err := cmds[i].Result()
		if err != nil {
			errs[i] = unavailable(ctx, "append batch", err)
			continue
		}
		s.settleReply(ctx, v, entries[i], i, added, errs)
	}
}

// settleReply records the reply v of the script for entries[i].
func (s *Store) settleReply(ctx context.Context, v any, e Entry, i int, added []bool, errs []error) {
	if err, ok := v.(error); ok {
		errs[i] = unavailable(ctx, "append batch", err)
		return
	}
	r, _, err := parseReply(v, e)
	if err != nil {
		errs[i] = unavailable(ctx, "append batch", err)
		return
	}
	added[i] = r.Added
	s.count(added[i])
}

// pipelineRuns sends the runs in one round trip, into their cmd; errors
// are left in the commands.
func (s *Store) pipelineRuns(ctx context.Context, entries []Entry, runs []*run, eval bool) {
	if len(runs) == 0 {
		return
	}
	_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, r := range runs {
			keys, args := s.batchArgs(entries, r.which)
			if eval {
				r.cmd = s.batchScript.Eval(ctx, p, keys, args...)
			} else {
				r.cmd = s.batchScript.EvalSha(ctx, p, keys, args...)
			}
		}
		return nil
	})
}

// batchArgs returns the keys and arguments of the batch script for
// entries[i], i in which, all of one site.
func (s *Store) batchArgs(entries []Entry, which []int) ([]string, []any) {
	host := entries[which[0]].Host
	list := s.ListKey(host)
	keys := make([]string, 0, 1+len(which))
	keys = append(keys, list)
	args := make([]any, 0, 7+8*len(which))
	args = append(args, s.window, s.length, s.prefix(host), s.delivery, s.inboxLength, s.inboxTTL, s.bodyTTL())
	for _, i := range which {
		e := entries[i]
		keys = append(keys, s.seenKey(list, e.ID))
		ps := slices.Compact(slices.Sorted(slices.Values(e.Principals)))
		args = append(args, e.Stored, seenValue(e), e.ID, e.Sender, e.Category, len(ps))
		for _, p := range ps {
			args = append(args, p)
		}
	}
	return keys, args
}

// trimLua is the end of the store scripts, once their messages are
// stored: it trims each index of idxs to the inbox length (the first most
// ids dropped that are left in no index lose their body, log and time
// entries), PyAMS's list KEYS[1] to listLength, and prunes up to most ids
// older than the TTL from the time index, their indexes, body and log. A
// body removed within the dedup window of its store leaves the seen key
// "{L}:seen:<id>" (its ts) for the rest of the window: the body is what
// remembers a stored id. It uses the scripts' locals pfx, length, ttl,
// window and now. The ids it forgets leave the log, the time index and
// their bodies in one call each, at the end. Its calls on keys that the
// script did not write itself (old bodies, other principals' indexes,
// PyAMS's list) are guarded: a key of another type there cannot abort a
// store whose messages are already published (an old body of another type
// reads as none, and is deleted with the id).
const trimLua = `
local gone, goneBodies, forgotten = {}, {}, {}
-- body reads an old id's principals, store time and seen value; a key of
-- another type (or an error) reads as no body.
local function body(old)
  local v = redis.pcall('HMGET', pfx .. 'm:' .. old, 'p', 'at', 'ts')
  if v.err then
    return {}
  end
  return v
end
local function forget(old, v)
  if forgotten[old] then
    return
  end
  forgotten[old] = true
  local at = v[2] or redis.call('ZSCORE', pfx .. 't', old)
  if at then
    local left = tonumber(at) + tonumber(window) - now
    if left > 0 then
      redis.call('SET', pfx .. 'seen:' .. old, v[3] or '1', 'PX', left)
    end
  end
  gone[#gone + 1], goneBodies[#goneBodies + 1] = old, pfx .. 'm:' .. old
end
local dropped = {}
for _, idx in ipairs(idxs) do
  local over = redis.call('ZCARD', idx) - length
  if over > 0 then
    if #dropped < most then
      for _, old in ipairs(redis.call('ZRANGE', idx, 0, math.min(over, most) - 1)) do
        dropped[#dropped + 1] = old
      end
    end
    redis.call('ZREMRANGEBYRANK', idx, 0, over - 1)
  end
end
for i = 1, math.min(#dropped, most) do
  local old = dropped[i]
  local kept = false
  local v = body(old)
  if v[1] then
    for p in string.gmatch(v[1], '[^\n]+') do
      local score = redis.pcall('ZSCORE', pfx .. 'i:' .. p, old)
      if score and type(score) ~= 'table' then
        kept = true
        break
      end
    end
  end
  if not kept then
    forget(old, v)
  end
end
redis.pcall('LTRIM', KEYS[1], 0, listLength - 1)
for _, old in ipairs(redis.call('ZRANGEBYSCORE', pfx .. 't', '-inf', now - tonumber(ttl), 'LIMIT', 0, most)) do
  local v = body(old)
  if v[1] then
    for p in string.gmatch(v[1], '[^\n]+') do
      redis.pcall('ZREM', pfx .. 'i:' .. p, old)
    end
  end
  forget(old, v)
end
if #gone > 0 then
  redis.call('DEL', unpack(goneBodies))
  redis.call('ZREM', pfx .. 'l', unpack(gone))
  redis.call('ZREM', pfx .. 't', unpack(gone))
end
`
