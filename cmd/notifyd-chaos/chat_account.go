package main

import (
	"fmt"
	"sort"
	"strings"
)

// chatRoute is how a chat message was sent.
type chatRoute int

const (
	chatWS   chatRoute = iota // the websocket send command: the sending connection gets only the ok
	chatREST                  // POST /api/spaces/{id}/messages with a publisher token: every member connection gets it
)

// chatState is where a send stands. A send is never retried (sends carry
// no idempotency key: a retry after a timeout could store twice), so a
// send that failed or timed out is counted as failed, never as sent.
type chatState int

const (
	chatPending chatState = iota
	chatOK                // the ok answer (websocket) or 201 (REST) arrived, with the id
	chatFailed            // an error answer, a non-201, a timeout or a cut connection
)

// chatSent is one send attempt.
type chatSent struct {
	// immutable after chatLedger.add
	phase  int
	space  int // index in chat.spaceIDs
	sender int // user index
	n      int // the sender's own count: a user sends one message at a time, so n is its send order
	route  chatRoute
	marker string // the body: identifies the attempt whatever id the server gives it

	// set once the attempt settled (guarded by chatLedger.mu)
	conn  int // websocket: the generation of the sending connection
	state chatState
	code  string // failed: the error code, the HTTP status or "timeout"
	id    string // ok: the message id
}

// chatRecv is one space event a user's connection got, or one message its
// history fill found.
type chatRecv struct {
	phase  int // the phase running when it arrived
	action string
	space  string // the space id
	id     string
	marker string // message events: the body
	conn   int    // the generation of the connection (fills: the connection they ran for)
	live   bool   // false: found by a history fill
}

// chatView is a user as the accounting sees it.
type chatView struct {
	spaces map[string]bool // the ids of the spaces it is a member of
	recvs  []chatRecv      // in arrival order
}

// chatTally is one phase's chat accounting.
type chatTally struct {
	attempts, ok, failed int // sends of the phase (never retried)
	failures             map[string]int

	expected, delivered int // deliveries owed to members for ok'd sends, and those seen (live or fill)
	live, filled        int // how the delivered ones arrived first
	lost                int // owed and never seen
	dup                 int // a message delivered live twice on one connection
	echo                int // a websocket send delivered back to its sending connection
	leaked              int // events of a space the user is not a member of
	storedTwice         int // sends that reached members under two ids (sends are never retried)
	inversions          int // live deliveries on one connection out of their sender's send order
	unconfirmed         int // deliveries of sends that did not get their ok
	// sends without ok that reached a member anyway, by failure code: an
	// error answer is no proof that nothing was stored (a retry, which has
	// no idempotency key, would store the message twice)
	unconfirmedSends map[string]int
}

// chatAccount computes phase p's chat tally from every send of the run,
// the users' receipts, and the members of each space (user indices, by
// space index); spaceIDs maps a space index to its id.
func chatAccount(p int, sends []chatSent, users []chatView, spaceIDs []string, members [][]int) chatTally {
	t := chatTally{failures: map[string]int{}, unconfirmedSends: map[string]int{}}
	byMarker := make(map[string]*chatSent, len(sends))
	for i := range sends {
		byMarker[sends[i].marker] = &sends[i]
	}
	type key struct {
		user int
		id   string
	}
	seen := map[key]bool{}
	firstLive := map[key]bool{}
	idsOf := map[string]map[string]bool{} // marker -> ids it reached members under
	for u, v := range users {
		type onConn struct {
			conn int
			id   string
		}
		liveOn := map[onConn]int{} // live deliveries of a message on a connection
		lastN := map[[2]int]int{}  // (conn, sender) -> highest n seen live
		for _, r := range v.recvs {
			s := byMarker[r.marker]
			msgPhase := r.phase
			if s != nil {
				msgPhase = s.phase
			}
			if !v.spaces[r.space] {
				if msgPhase == p {
					t.leaked++
				}
				continue
			}
			if r.action != "message" || s == nil {
				continue // activity before a subscribe, typing...; or not ours
			}
			if idsOf[r.marker] == nil {
				idsOf[r.marker] = map[string]bool{}
			}
			idsOf[r.marker][r.id] = true
			if s.phase != p {
				continue
			}
			k := key{u, r.id}
			if r.live {
				ck := onConn{r.conn, r.id}
				liveOn[ck]++
				if liveOn[ck] == 2 {
					t.dup++
				}
				if s.route == chatWS && s.sender == u && s.conn == r.conn {
					t.echo++
				}
				if s.state == chatOK { // a failed send may be stored late: no order to keep
					sk := [2]int{r.conn, s.sender}
					if last, ok := lastN[sk]; ok && s.n < last {
						t.inversions++
					}
					lastN[sk] = max(lastN[sk], s.n)
				}
			}
			if !seen[k] {
				seen[k] = true
				firstLive[k] = r.live
			}
		}
	}
	for i := range sends {
		s := &sends[i]
		if s.phase != p {
			continue
		}
		t.attempts++
		switch s.state {
		case chatOK:
			t.ok++
		default:
			t.failed++
			code := s.code
			if s.state == chatPending {
				code = "unsettled"
			}
			t.failures[code]++
		}
		if len(idsOf[s.marker]) > 1 {
			t.storedTwice++
		}
		reached := false // a send without ok reached a member
		for _, m := range members[s.space] {
			if s.route == chatWS && m == s.sender {
				continue // the sending connection gets only the ok
			}
			got := false
			for id := range idsOf[s.marker] {
				if seen[key{m, id}] {
					got = true
					if s.state == chatOK {
						if firstLive[key{m, id}] {
							t.live++
						} else {
							t.filled++
						}
					}
					break
				}
			}
			if s.state != chatOK {
				if got {
					if t.unconfirmed++; !reached {
						t.unconfirmedSends[s.code]++
					}
					reached = true
				}
				continue
			}
			t.expected++
			if got {
				t.delivered++
			} else {
				t.lost++
			}
		}
	}
	return t
}

// chatJudge turns a chat tally into the phase's problems: every ok'd
// message reaches every member (live or by the history fill a client runs
// on reconnect), none twice on one connection, none back to its sending
// connection, none to a non-member, each in its sender's order.
func chatJudge(ph *phase, t chatTally) {
	if t.lost > 0 {
		ph.problem("chat: %d deliveries of ok'd messages lost (neither live nor in the history fill)", t.lost)
	}
	if t.dup > 0 {
		ph.problem("chat: %d messages delivered twice on one connection", t.dup)
	}
	if t.echo > 0 {
		ph.problem("chat: %d websocket sends came back to their sending connection", t.echo)
	}
	if t.leaked > 0 {
		ph.problem("chat: %d events of a space reached a non-member", t.leaked)
	}
	if t.storedTwice > 0 {
		ph.problem("chat: %d sends (never retried) reached members under two ids", t.storedTwice)
	}
	if t.inversions > 0 {
		ph.problem("chat: %d live deliveries out of their sender's send order on one connection", t.inversions)
	}
	if t.ok == 0 {
		ph.problem("chat: no send was ok'd")
	}
}

// chatJudgeStats turns the counters into problems: a member must be let
// in, a non-member never.
func chatJudgeStats(ph *phase, s chatStats) {
	if s.memberRefused > 0 {
		ph.problem("chat: %d subscribes of members refused not_found", s.memberRefused)
	}
	if s.probesAccepted > 0 {
		ph.problem("chat: %d subscribes, sends or history reads of non-members accepted", s.probesAccepted)
	}
}

// failureText lists failure codes, most frequent first.
func failureText(m map[string]int) string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s×%d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
