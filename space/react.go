package space

import (
	"context"
	"errors"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/protocol"
)

// maxReactors is how many principals per emoji a history page lists.
const maxReactors = 10

// React adds (or with remove, removes) the caller's reaction emoji to a
// message of a space it is a member of. It is idempotent per principal and
// emoji: the event is published only when something changed. It returns
// the reaction with the emoji's count after the change.
func (s *Service) React(ctx context.Context, c Caller, messageID, emoji string, remove bool) (protocol.Reaction, error) {
	const op = "react"
	if err := checkCaller(op, &c); err != nil {
		return protocol.Reaction{}, err
	}
	if !validMessageID(messageID) {
		return protocol.Reaction{}, failure(op, ErrNotFound, "message")
	}
	if err := checkEmoji(op, emoji); err != nil {
		return protocol.Reaction{}, err
	}
	rm := "0"
	if remove {
		rm = "1"
	}
	v, err := s.run(ctx, op, reactLua, c.Host, s.key(c.Host, "sx:", messageID),
		messageID, c.Principal, emoji, rm, s.cfg.MaxEmojis)
	if err != nil {
		return protocol.Reaction{}, err
	}
	r := protocol.Reaction{
		Action: protocol.ActionReaction, Space: str(v[1]), Message: messageID, Emoji: emoji,
		Principal: c.Principal, Remove: remove, Count: int(num(v[2])),
	}
	if num(v[3]) == 1 {
		s.stats.reactions.Add(1)
		s.publishEvent(ctx, event{Type: eventReaction, Host: c.Host, Space: r.Space, Principal: c.Principal,
			Message: messageID, Emoji: emoji, Remove: remove, Count: r.Count})
	}
	return r, nil
}

// withReactions sets the reactions of msgs (of the space id): two
// pipelines, the counts then the first reactors of each emoji. Messages
// without a record of the space (published by something other than Send,
// or expired) are dropped.
func (s *Service) withReactions(ctx context.Context, host, id string, msgs []protocol.SpaceMessage) ([]protocol.SpaceMessage, error) {
	if len(msgs) == 0 {
		return msgs, nil
	}
	p := s.rdb.Pipeline()
	spaces := make([]*redis.StringCmd, len(msgs))
	counts := make([]*redis.MapStringStringCmd, len(msgs))
	for i, m := range msgs {
		spaces[i] = p.HGet(ctx, s.key(host, "sx:", m.ID), "space")
		counts[i] = p.HGetAll(ctx, s.key(host, "r:", m.ID))
	}
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, s.redisErr(ctx, "reactions", err)
	}
	type pending struct {
		msg, emoji int
		cmd        *redis.StringSliceCmd
	}
	var who []pending
	p = s.rdb.Pipeline()
	out := msgs[:0]
	for i, m := range msgs {
		if spaces[i].Val() != id {
			continue
		}
		for e, n := range counts[i].Val() {
			cnt := int(num(n))
			if cnt <= 0 {
				continue
			}
			m.Reactions = append(m.Reactions, protocol.ReactionCount{Emoji: e, Count: cnt})
		}
		sortReactions(m.Reactions)
		for j, rc := range m.Reactions {
			cmd := p.ZRangeByLex(ctx, s.key(host, "rp:", m.ID), &redis.ZRangeBy{
				Min: "[" + rc.Emoji + "\x00", Max: "(" + rc.Emoji + "\x01", Count: maxReactors,
			})
			who = append(who, pending{len(out), j, cmd})
		}
		out = append(out, m)
	}
	if len(who) > 0 {
		if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return nil, s.redisErr(ctx, "reactions", err)
		}
		for _, w := range who {
			rc := &out[w.msg].Reactions[w.emoji]
			for _, member := range w.cmd.Val() {
				if _, principal, ok := strings.Cut(member, "\x00"); ok {
					rc.Principals = append(rc.Principals, principal)
				}
			}
		}
	}
	return out, nil
}

// sortReactions orders reactions by count, then emoji.
func sortReactions(rs []protocol.ReactionCount) {
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && (rs[j].Count > rs[j-1].Count || rs[j].Count == rs[j-1].Count && rs[j].Emoji < rs[j-1].Emoji); j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
}
