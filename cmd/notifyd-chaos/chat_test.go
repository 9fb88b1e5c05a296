package main

import (
	"fmt"
	"strings"
	"testing"
)

// chatFixture is a small run: spaces s0 (users 0, 1, 2) and s1 (users 2,
// 3); user 4 is in none. Phase 1 has a websocket send of user 0 to s0 (a),
// a REST send of user 1 to s0 (b: user 1's own connection gets it too) and
// a failed websocket send of user 3 to s1 (c); phase 2 has one send (d),
// owed nowhere in phase 1. Every owed delivery of phase 1 arrives once.
func chatFixture() ([]chatSent, []chatView, []string, [][]int) {
	spaceIDs := []string{"s0", "s1"}
	members := [][]int{{0, 1, 2}, {2, 3}}
	sends := []chatSent{
		{phase: 1, space: 0, sender: 0, n: 1, route: chatWS, marker: "a", conn: 1, state: chatOK, id: "A"},
		{phase: 1, space: 0, sender: 1, n: 1, route: chatREST, marker: "b", state: chatOK, id: "B"},
		{phase: 1, space: 1, sender: 3, n: 1, route: chatWS, marker: "c", conn: 1, state: chatFailed, code: "timeout"},
		{phase: 2, space: 1, sender: 2, n: 1, route: chatWS, marker: "d", conn: 1, state: chatOK, id: "D"},
	}
	msg := func(space, id, marker string, conn int, live bool) chatRecv {
		return chatRecv{phase: 1, action: "message", space: space, id: id, marker: marker, conn: conn, live: live}
	}
	users := []chatView{
		{spaces: map[string]bool{"s0": true}, recvs: []chatRecv{msg("s0", "B", "b", 1, true)}},
		{spaces: map[string]bool{"s0": true}, recvs: []chatRecv{msg("s0", "A", "a", 1, true), msg("s0", "B", "b", 1, true)}},
		{spaces: map[string]bool{"s0": true, "s1": true}, recvs: []chatRecv{
			msg("s0", "A", "a", 1, true), msg("s0", "B", "b", 2, false), msg("s0", "B", "b", 2, true)}},
		{spaces: map[string]bool{"s1": true}},
		{spaces: map[string]bool{}},
	}
	return sends, users, spaceIDs, members
}

func TestChatAccount(t *testing.T) {
	t.Parallel()
	msg := func(space, id, marker string, conn int, live bool) chatRecv {
		return chatRecv{phase: 1, action: "message", space: space, id: id, marker: marker, conn: conn, live: live}
	}
	tests := []struct {
		name   string
		mutate func(sends *[]chatSent, users []chatView)
		check  func(ct chatTally) bool
	}{
		{"every owed delivery once", nil, func(ct chatTally) bool {
			return ct.attempts == 3 && ct.ok == 2 && ct.failed == 1 && ct.failures["timeout"] == 1 &&
				ct.expected == 5 && ct.delivered == 5 && ct.live == 4 && ct.filled == 1 &&
				ct.lost+ct.dup+ct.leaked+ct.echo+ct.storedTwice+ct.inversions+ct.unconfirmed == 0
		}},
		{"a member never got it", func(_ *[]chatSent, u []chatView) {
			u[2].recvs = u[2].recvs[:1] // neither the fill nor the live b
		}, func(ct chatTally) bool { return ct.lost == 1 && ct.delivered == 4 }},
		{"the REST sender's own connection missed it", func(_ *[]chatSent, u []chatView) {
			u[1].recvs = u[1].recvs[:1]
		}, func(ct chatTally) bool { return ct.lost == 1 }},
		{"twice live on one connection", func(_ *[]chatSent, u []chatView) {
			u[1].recvs = append(u[1].recvs, msg("s0", "A", "a", 1, true))
		}, func(ct chatTally) bool { return ct.dup == 1 && ct.lost == 0 && ct.delivered == 5 }},
		{"live again on a new connection is no duplicate", func(_ *[]chatSent, u []chatView) {
			u[1].recvs = append(u[1].recvs, msg("s0", "A", "a", 2, true))
		}, func(ct chatTally) bool { return ct.dup == 0 }},
		{"a non-member gets a message", func(_ *[]chatSent, u []chatView) {
			u[4].recvs = append(u[4].recvs, msg("s0", "A", "a", 1, true))
		}, func(ct chatTally) bool { return ct.leaked == 1 && ct.delivered == 5 }},
		{"a member of another space gets an activity", func(_ *[]chatSent, u []chatView) {
			u[3].recvs = append(u[3].recvs, chatRecv{phase: 1, action: "activity", space: "s0", id: "A", conn: 1, live: true})
		}, func(ct chatTally) bool { return ct.leaked == 1 }},
		{"a leak of another phase is not this phase's", func(_ *[]chatSent, u []chatView) {
			u[4].recvs = append(u[4].recvs, chatRecv{phase: 2, action: "message", space: "s1", id: "D", marker: "d", conn: 1, live: true})
		}, func(ct chatTally) bool { return ct.leaked == 0 }},
		{"the sending connection gets its own message", func(_ *[]chatSent, u []chatView) {
			u[0].recvs = append(u[0].recvs, msg("s0", "A", "a", 1, true))
		}, func(ct chatTally) bool { return ct.echo == 1 && ct.expected == 5 }},
		{"the sender's next connection may see it (history)", func(_ *[]chatSent, u []chatView) {
			u[0].recvs = append(u[0].recvs, msg("s0", "A", "a", 2, false), msg("s0", "A", "a", 2, true))
		}, func(ct chatTally) bool { return ct.echo == 0 && ct.dup == 0 }},
		{"one send under two ids", func(_ *[]chatSent, u []chatView) {
			u[2].recvs = append(u[2].recvs, msg("s0", "A2", "a", 1, true))
		}, func(ct chatTally) bool { return ct.storedTwice == 1 }},
		{"out of the sender's order on one connection", func(s *[]chatSent, u []chatView) {
			*s = append(*s, chatSent{phase: 1, space: 0, sender: 0, n: 2, route: chatWS, marker: "a2", conn: 1, state: chatOK, id: "A2"})
			u[1].recvs = append([]chatRecv{msg("s0", "A2", "a2", 1, true)}, u[1].recvs...)
			u[2].recvs = append(u[2].recvs, msg("s0", "A2", "a2", 1, true))
		}, func(ct chatTally) bool { return ct.inversions == 1 && ct.lost == 0 }},
		{"order is per connection", func(s *[]chatSent, u []chatView) {
			*s = append(*s, chatSent{phase: 1, space: 0, sender: 0, n: 2, route: chatWS, marker: "a2", conn: 1, state: chatOK, id: "A2"})
			u[1].recvs = append([]chatRecv{msg("s0", "A2", "a2", 0, true)}, u[1].recvs...)
			u[2].recvs = append(u[2].recvs, msg("s0", "A2", "a2", 1, true))
		}, func(ct chatTally) bool { return ct.inversions == 0 }},
		{"a failed send that arrived anyway", func(_ *[]chatSent, u []chatView) {
			u[2].recvs = append(u[2].recvs, msg("s1", "C", "c", 1, true))
		}, func(ct chatTally) bool {
			return ct.unconfirmed == 1 && ct.unconfirmedSends["timeout"] == 1 && ct.expected == 5 && ct.lost == 0
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sends, users, ids, members := chatFixture()
			if tt.mutate != nil {
				tt.mutate(&sends, users)
			}
			if ct := chatAccount(1, sends, users, ids, members); !tt.check(ct) {
				t.Fatalf("tally %+v", ct)
			}
		})
	}
}

func TestChatJudge(t *testing.T) {
	t.Parallel()
	clean := chatTally{ok: 3, expected: 9, delivered: 9}
	ph := &phase{}
	if chatJudge(ph, clean); len(ph.problems) > 0 {
		t.Fatalf("clean tally: %v", ph.problems)
	}
	for _, tt := range []struct {
		want   string
		mutate func(t *chatTally)
	}{
		{"lost", func(t *chatTally) { t.lost = 1 }},
		{"twice on one connection", func(t *chatTally) { t.dup = 1 }},
		{"sending connection", func(t *chatTally) { t.echo = 1 }},
		{"non-member", func(t *chatTally) { t.leaked = 1 }},
		{"two ids", func(t *chatTally) { t.storedTwice = 1 }},
		{"send order", func(t *chatTally) { t.inversions = 1 }},
		{"no send", func(t *chatTally) { t.ok = 0 }},
	} {
		ct := clean
		tt.mutate(&ct)
		ph := &phase{}
		chatJudge(ph, ct)
		if len(ph.problems) != 1 || !strings.Contains(ph.problems[0], tt.want) {
			t.Errorf("%s: problems %v", tt.want, ph.problems)
		}
	}
	for _, tt := range []struct {
		want string
		s    chatStats
	}{
		{"members refused", chatStats{memberRefused: 1}},
		{"non-members accepted", chatStats{probesAccepted: 1}},
	} {
		ph := &phase{}
		chatJudgeStats(ph, tt.s)
		if len(ph.problems) != 1 || !strings.Contains(ph.problems[0], tt.want) {
			t.Errorf("%s: problems %v", tt.want, ph.problems)
		}
	}
	ph = &phase{}
	if chatJudgeStats(ph, chatStats{probes: 4, probesRefused: 3, probeOther: map[string]int{"unavailable": 1}}); len(ph.problems) > 0 {
		t.Fatalf("refused probes: %v", ph.problems)
	}
}

func TestNewChatMembership(t *testing.T) {
	t.Parallel()
	ch := newChat(chatConfig{users: 20, spaces: 5, members: 6, outsiders: 4, rate: 1}, "", nil, "",
		[]*gateway{{}, {}}, nil, nil, 1)
	sets := map[string]bool{}
	for k, ms := range ch.members {
		if len(ms) != 6 || sets[fmt.Sprint(ms)] {
			t.Errorf("space %d has members %v (all: %v)", k, ms, ch.members)
		}
		sets[fmt.Sprint(ms)] = true
	}
	for _, u := range ch.users {
		outsider := u.index >= 16
		if outsider == (len(u.spaces) > 0) || len(u.spaces)+len(u.others) != 5 {
			t.Errorf("user %d: spaces %v, others %v", u.index, u.spaces, u.others)
		}
	}
}
