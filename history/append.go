package history

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Append stores the stored form of message id in the list of host, unless an
// entry with the same id was appended within the dedup window. It reports
// whether this call stored it. Redis errors match ErrUnavailable; a missing id
// or a host with braces match message.ErrInvalid.
func (s *Store) Append(ctx context.Context, host, id string, stored []byte) (added bool, err error) {
	return s.run(ctx, "append", host, id, stored)
}

// AppendPublish is Append that also PUBLISHes stored on channel, in the
// same script, when (and only when) it stores it: a site's list holds its
// messages in the order subscribers receive them, and a duplicate is
// neither stored nor published again. It is the publisher's one round
// trip. Errors are Append's.
func (s *Store) AppendPublish(ctx context.Context, channel, host, id string, stored []byte) (added bool, err error) {
	return s.run(ctx, fmt.Sprintf("append and publish %q", channel), host, id, stored, channel)
}

// run runs the append script for one entry, with the optional channel.
func (s *Store) run(ctx context.Context, op, host, id string, stored []byte, channel ...any) (bool, error) {
	if err := checkEntry(host, id); err != nil {
		return false, err
	}
	keys, args := s.scriptArgs(host, id, stored)
	n, err := s.script.Run(ctx, s.rdb, keys, append(args, channel...)...).Int64()
	if err != nil {
		return false, unavailable(ctx, op, err)
	}
	s.count(n == 1)
	return n == 1, nil
}

// AppendBatch appends many entries in one round trip (a pipeline of EVALSHA,
// plus one of EVAL when Redis had not cached the script). added[i] reports
// whether entries[i] was stored by this call.
//
// When some entries fail, the error is a *BatchError saying which (see
// EntryError); added is still valid for the others. It matches
// ErrUnavailable when Redis failed, message.ErrInvalid when an entry has no
// id. Storage is idempotent: retrying failed entries stores each exactly
// once.
func (s *Store) AppendBatch(ctx context.Context, entries []Entry) (added []bool, err error) {
	added = make([]bool, len(entries))
	errs := make([]error, len(entries))
	cmds := make([]*redis.Cmd, len(entries))
	var send []int // indexes of the entries sent to Redis
	for i, e := range entries {
		if errs[i] = checkEntry(e.Host, e.ID); errs[i] == nil {
			send = append(send, i)
		}
	}
	s.pipeline(ctx, entries, send, cmds, false)
	var retry []int
	for _, i := range send {
		if redis.HasErrorPrefix(cmds[i].Err(), "NOSCRIPT") {
			retry = append(retry, i)
		}
	}
	// EVAL sends the source, which also caches it for the next EVALSHA.
	s.pipeline(ctx, entries, retry, cmds, true)
	failed := false
	for _, i := range send {
		n, err := cmds[i].Int64()
		if err != nil {
			errs[i], failed = unavailable(ctx, "append batch", err), true
			continue
		}
		added[i] = n == 1
		s.count(added[i])
	}
	if failed || len(send) < len(entries) {
		return added, &BatchError{Errs: errs}
	}
	return added, nil
}

// pipeline runs the script for entries[i] for each i in which, in one round
// trip, into cmds[i]; errors are left in the commands.
func (s *Store) pipeline(ctx context.Context, entries []Entry, which []int, cmds []*redis.Cmd, eval bool) {
	if len(which) == 0 {
		return
	}
	_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, i := range which {
			e := entries[i]
			keys, args := s.scriptArgs(e.Host, e.ID, e.Stored)
			if eval {
				cmds[i] = s.script.Eval(ctx, p, keys, args...)
			} else {
				cmds[i] = s.script.EvalSha(ctx, p, keys, args...)
			}
		}
		return nil
	})
}
