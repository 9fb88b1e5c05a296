package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/protocol"
)

// The chat runs alongside the fleet in every phase (issue 10): chat users
// in shared spaces, each holding one websocket spread over the gateways
// like the fleet, send while the phase's fault runs. A user's connection
// subscribes to its spaces and, on every (re)connect, fills the gap from
// the space's REST history, as a real client does; the accounting
// (chatAccount) then demands every ok'd message at every member, once,
// in its sender's order, and nothing at a non-member.

// chatConfig sizes the chat; users == 0 turns it off.
type chatConfig struct {
	users     int // chat users, outsiders included
	spaces    int
	members   int // members per space
	outsiders int // users that are members of no space
	rate      int // sends per second, all users together
}

const (
	chatCommandTimeout = 5 * time.Second // a send or subscribe without answer by then failed
	chatFillPage       = 100             // history page size of a gap fill
	chatFillMaxPages   = 50
	chatProbeEvery     = 10 // one tick in this many is an outsider's send to a space it is not in
)

// errChatClosed: the connection a command was sent on ended first.
var errChatClosed = errors.New("connection closed")

// chat is the chat users, their spaces and their books.
type chat struct {
	// immutable after newChat and setup
	cfg      chatConfig
	site     string
	secret   []byte
	pubToken string // REST sends: a publisher token acting for the user
	gws      []*gateway
	hc       *http.Client
	log      *slog.Logger
	users    []*chatUser
	spaceIDs []string
	members  [][]int // user indices by space index

	rng    *rand.Rand // owned by run's goroutine
	phase  atomic.Int64
	ledger chatLedger

	mu    sync.Mutex
	stats map[int]*chatStats // guarded by mu: by phase

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// chatStats are a phase's counters that are not in the ledger.
type chatStats struct {
	skipped        int // sends not attempted: the user was busy with its previous send or not connected
	sessions       int // connections established
	fills          int // history fills completed
	filled         int // messages those fills brought
	fillErrors     int // history pages that failed (the fill is retried)
	subscribeRetry int // member subscribes that got an error other than not_found (retried)
	memberRefused  int // a member's subscribe refused not_found
	probes         int // non-member subscribes, sends and history reads
	probesRefused  int // of those, refused not_found / 404
	probesAccepted int // of those, accepted
	probeOther     map[string]int
}

// chatLedger is every send of the run.
type chatLedger struct {
	mu    sync.Mutex
	sends []*chatSent
}

func (l *chatLedger) add(s *chatSent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sends = append(l.sends, s)
}

func (l *chatLedger) settle(s *chatSent, st chatState, code, id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s.state, s.code, s.id = st, code, id
}

func (l *chatLedger) snapshot() []chatSent {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]chatSent, len(l.sends))
	for i, s := range l.sends {
		out[i] = *s
	}
	return out
}

// chatUser is one chat user and its (one) websocket.
type chatUser struct {
	// immutable after newChat
	index     int
	principal string
	spaces    []int // member of, by space index (nil: an outsider)
	others    []int // not a member of
	home      int   // gateway index
	xff       string

	busy    atomic.Bool  // a send in flight: a user sends one message at a time
	gateway atomic.Int32 // index of the gateway its websocket is open on; -1 while none
	tcp     cutter       // its dialer (the order fault cuts its connection)

	mu      sync.Mutex
	conn    *websocket.Conn            // guarded by mu: the ready connection (subscribed and filled), nil otherwise
	gen     int                        // guarded by mu: generation of the latest connection
	pending map[string]chan chatFrame  // guarded by mu: rid -> waiter, for connection gen
	rids    int                        // guarded by mu
	sends   int                        // guarded by mu: the user's send count (chatSent.n)
	recvs   []chatRecv                 // guarded by mu
	known   map[string]bool            // guarded by mu: message ids got live or by a fill
	gapFrom map[string]map[string]bool // guarded by mu: space id -> ids known before the disconnect whose gap is not filled yet
	probe   int                        // guarded by mu: rotates over others
}

// chatFrame is what the chat reads of a server frame.
type chatFrame struct {
	Action string `json:"action"`
	RID    string `json:"rid"`
	Code   string `json:"code"`
	ID     string `json:"id"`
	Space  string `json:"space"`
	Body   string `json:"body"`
}

func chatPrincipal(i int) string { return fmt.Sprintf("users:chat%03d", i) }

// newChat assigns the users to spaces: space k has the members
// k*step .. k*step+members-1 (mod the member users), with the step that
// lets the spaces cover the member users, so that spaces overlap and every
// member user is in at least one when there are enough seats; the last
// outsiders users are in none.
func newChat(cfg chatConfig, site string, secret []byte, pubToken string, gws []*gateway, hc *http.Client, log *slog.Logger, seed uint64) *chat {
	ch := &chat{cfg: cfg, site: site, secret: secret, pubToken: pubToken, gws: gws, hc: hc, log: log,
		rng: rand.New(rand.NewPCG(seed, seed>>2|3)), stats: map[int]*chatStats{}}
	nm := cfg.users - cfg.outsiders
	step := max(1, (nm-cfg.members+cfg.spaces-1)/max(1, cfg.spaces-1))
	ch.members = make([][]int, cfg.spaces)
	for k := range cfg.spaces {
		for j := range cfg.members {
			ch.members[k] = append(ch.members[k], (k*step+j)%nm)
		}
		slices.Sort(ch.members[k])
	}
	for i := range cfg.users {
		u := &chatUser{index: i, principal: chatPrincipal(i), home: i % len(gws),
			xff:     fmt.Sprintf("10.250.%d.%d", (i>>8)&255, i&255),
			pending: map[string]chan chatFrame{}, known: map[string]bool{}, gapFrom: map[string]map[string]bool{}}
		u.gateway.Store(-1)
		for k, ms := range ch.members {
			if slices.Contains(ms, i) {
				u.spaces = append(u.spaces, k)
			} else {
				u.others = append(u.others, k)
			}
		}
		ch.users = append(ch.users, u)
	}
	return ch
}

// setup creates the spaces over REST, each by its first member.
func (ch *chat) setup(ctx context.Context) error {
	for k, ms := range ch.members {
		var others []string
		for _, m := range ms[1:] {
			others = append(others, chatPrincipal(m))
		}
		body, _ := json.Marshal(map[string]any{"title": fmt.Sprintf("chaos %d", k), "members": others, "kind": "group"})
		var out struct {
			ID string `json:"id"`
		}
		code, err := ch.rest(ctx, ch.gws[k%len(ch.gws)], http.MethodPost, "/api/spaces", ch.userAuth(ms[0]), "", body, &out)
		if err != nil {
			return fmt.Errorf("create space %d: %w", k, err)
		}
		if code != http.StatusCreated || out.ID == "" {
			return fmt.Errorf("create space %d: status %d", k, code)
		}
		ch.spaceIDs = append(ch.spaceIDs, out.ID)
	}
	return nil
}

func (ch *chat) userAuth(i int) string {
	tok, _ := auth.Mint(ch.secret, chatPrincipal(i), "", nil, time.Now(), time.Hour)
	return tok
}

// rest calls one of the REST routes with the bearer token tok (acting for
// actAs when set) and decodes a 2xx answer into out.
func (ch *chat) rest(ctx context.Context, g *gateway, method, path, tok, actAs string, body []byte, out any) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, chatCommandTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, g.base()+path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Origin", ch.site)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if actAs != "" {
		req.Header.Set("X-Notifyd-Principal", actAs)
	}
	resp, err := ch.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 && out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return resp.StatusCode, fmt.Errorf("decode: %w", err)
		}
	}
	return resp.StatusCode, nil
}

// stat updates the counters of the phase running.
func (ch *chat) stat(f func(s *chatStats)) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	p := int(ch.phase.Load())
	s := ch.stats[p]
	if s == nil {
		s = &chatStats{probeOther: map[string]int{}}
		ch.stats[p] = s
	}
	f(s)
}

// phaseStats returns a copy of phase p's counters.
func (ch *chat) phaseStats(p int) chatStats {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if s := ch.stats[p]; s != nil {
		c := *s
		c.probeOther = map[string]int{}
		for k, v := range s.probeOther {
			c.probeOther[k] = v
		}
		return c
	}
	return chatStats{probeOther: map[string]int{}}
}

// start runs every user's connection until stop.
func (ch *chat) start(ctx context.Context) {
	ctx, ch.cancel = context.WithCancel(ctx)
	for _, u := range ch.users {
		ch.wg.Go(func() { ch.runUser(ctx, u) })
	}
}

// stop ends every connection and joins them.
func (ch *chat) stop() {
	if ch.cancel != nil {
		ch.cancel()
	}
	ch.wg.Wait()
}

// ready counts the users whose connection is subscribed and filled.
func (ch *chat) ready() int {
	n := 0
	for _, u := range ch.users {
		if c, _ := u.current(); c != nil {
			n++
		}
	}
	return n
}

// perGateway counts the users' open websockets by gateway.
func (ch *chat) perGateway() []int {
	out := make([]int, len(ch.gws))
	for _, u := range ch.users {
		if g := u.gateway.Load(); g >= 0 {
			out[g]++
		}
	}
	return out
}

// runUser keeps u connected: home gateway first, the other after a
// failure, with jittered backoff.
func (ch *chat) runUser(ctx context.Context, u *chatUser) {
	gi, fails := u.home, 0
	for ctx.Err() == nil {
		if ch.session(ctx, u, gi) {
			gi, fails = u.home, 0
			sleep(ctx, time.Duration(50+rand.IntN(200))*time.Millisecond)
			continue
		}
		fails++
		gi = (gi + 1) % len(ch.gws)
		d := min(time.Second, 50*time.Millisecond<<min(fails, 5))
		sleep(ctx, d/2+rand.N(d/2+1))
	}
}

// session is one connection of u to gateway gi: dial, subscribe to u's
// spaces, probe a space u is not in, fill each space's gap from history,
// then serve sends until the connection ends. It reports whether the
// connection was established.
func (ch *chat) session(ctx context.Context, u *chatUser, gi int) bool {
	g := ch.gws[gi]
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = u.tcp.dial
	defer tr.CloseIdleConnections()
	dctx, cancel := context.WithTimeout(ctx, chatCommandTimeout)
	conn, _, err := websocket.Dial(dctx, g.wsURL()+"?token="+url.QueryEscape(ch.userAuth(u.index)), &websocket.DialOptions{
		HTTPClient: &http.Client{Transport: tr},
		HTTPHeader: http.Header{"Origin": {ch.site}, "X-Forwarded-For": {u.xff}},
	})
	cancel()
	if err != nil {
		return false
	}
	conn.SetReadLimit(4 << 20) // the fleet's garbage phase sends large frames to everyone
	gen := u.begin(ch.spaceIDs)
	u.gateway.Store(int32(gi))
	ch.stat(func(s *chatStats) { s.sessions++ })
	done := make(chan struct{})
	go func() { // joined below
		defer close(done)
		ch.read(ctx, u, conn, gen)
	}()
	defer func() {
		conn.CloseNow()
		<-done
		u.gateway.Store(-1)
		u.end(gen)
	}()
	for _, k := range u.spaces {
		if !ch.subscribe(ctx, u, conn, gen, k) {
			return true
		}
	}
	if len(u.others) > 0 {
		ch.probe(ctx, u, conn, gen, g)
	}
	for _, k := range u.spaces {
		if !ch.fill(ctx, u, g, gen, ch.spaceIDs[k]) {
			return true
		}
	}
	u.setReady(conn, gen)
	select {
	case <-done:
	case <-ctx.Done():
	}
	return true
}

// subscribe subscribes u's connection to space k, retrying answers other
// than ok and not_found (storage unavailable...).
func (ch *chat) subscribe(ctx context.Context, u *chatUser, conn *websocket.Conn, gen, k int) bool {
	for range 10 {
		f, err := u.command(ctx, conn, gen, protocol.Command{Action: protocol.ActionSubscribe, Space: ch.spaceIDs[k]})
		switch {
		case errors.Is(err, errChatClosed) || ctx.Err() != nil:
			return false
		case err == nil && f.Action == protocol.ActionOK:
			return true
		case err == nil && f.Code == protocol.CodeNotFound:
			ch.stat(func(s *chatStats) { s.memberRefused++ })
			return false
		}
		ch.stat(func(s *chatStats) { s.subscribeRetry++ })
		sleep(ctx, 200*time.Millisecond)
	}
	return false
}

// probe asks, as u, for a space u is not a member of: the subscribe must
// be refused not_found, and the history read 404.
func (ch *chat) probe(ctx context.Context, u *chatUser, conn *websocket.Conn, gen int, g *gateway) {
	u.mu.Lock()
	k := u.others[u.probe%len(u.others)]
	u.probe++
	u.mu.Unlock()
	f, err := u.command(ctx, conn, gen, protocol.Command{Action: protocol.ActionSubscribe, Space: ch.spaceIDs[k]})
	switch {
	case err != nil:
		ch.countProbe("subscribe " + shortErr(err))
	case f.Action == protocol.ActionOK:
		ch.countProbe("accepted")
	default:
		ch.countProbe(f.Code)
	}
	code, err := ch.rest(ctx, g, http.MethodGet, "/api/spaces/"+url.PathEscape(ch.spaceIDs[k])+"/messages", ch.userAuth(u.index), "", nil, nil)
	switch {
	case err != nil:
		ch.countProbe("history " + shortErr(err))
	case code == http.StatusNotFound:
		ch.countProbe(protocol.CodeNotFound)
	case code/100 == 2:
		ch.countProbe("accepted")
	default:
		ch.countProbe(fmt.Sprintf("history %d", code))
	}
}

// countProbe counts a non-member's attempt by its outcome: not_found,
// accepted, or anything else.
func (ch *chat) countProbe(outcome string) {
	ch.stat(func(s *chatStats) {
		s.probes++
		switch outcome {
		case protocol.CodeNotFound:
			s.probesRefused++
		case "accepted":
			s.probesAccepted++
		default:
			s.probeOther[outcome]++
		}
	})
}

// fill reads space id's history, newest first, until it reaches a message
// u knew before the disconnect whose gap this fills (or the end), and
// records what it finds. It retries a failed page a few times; it reports
// false when it gave up (the session ends and the next one fills again,
// from the same point).
func (ch *chat) fill(ctx context.Context, u *chatUser, g *gateway, gen int, id string) bool {
	before := u.gapStart(id)
	tok := ch.userAuth(u.index)
	next, n := "", 0
	for range chatFillMaxPages {
		path := fmt.Sprintf("/api/spaces/%s/messages?limit=%d", url.PathEscape(id), chatFillPage)
		if next != "" {
			path += "&before=" + url.QueryEscape(next)
		}
		var page struct {
			Messages []protocol.SpaceMessage `json:"messages"`
			Next     string                  `json:"next"`
		}
		var code int
		var err error
		for try := 0; ; try++ {
			code, err = ch.rest(ctx, g, http.MethodGet, path, tok, "", nil, &page)
			if err == nil && code == http.StatusOK {
				break
			}
			ch.stat(func(s *chatStats) { s.fillErrors++ })
			if try == 4 || ctx.Err() != nil {
				return false
			}
			sleep(ctx, 200*time.Millisecond)
		}
		for _, m := range page.Messages {
			if before[m.ID] {
				ch.filled(u, id, n)
				return true
			}
			if u.record(chatRecv{phase: int(ch.phase.Load()), action: protocol.ActionMessage, space: id, id: m.ID,
				marker: m.Body, conn: gen}) {
				n++
			}
		}
		if page.Next == "" || len(page.Messages) == 0 {
			ch.filled(u, id, n)
			return true
		}
		next = page.Next
	}
	ch.filled(u, id, n)
	return true
}

func (ch *chat) filled(u *chatUser, id string, n int) {
	u.mu.Lock()
	delete(u.gapFrom, id)
	u.mu.Unlock()
	ch.stat(func(s *chatStats) { s.fills++; s.filled += n })
}

// read dispatches the connection's frames until it ends: answers to their
// waiters, space events to u's receipts.
func (ch *chat) read(ctx context.Context, u *chatUser, conn *websocket.Conn, gen int) {
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			return
		}
		var f chatFrame
		if json.Unmarshal(data, &f) != nil {
			continue // not a chat frame (the fleet's garbage phase)
		}
		switch f.Action {
		case protocol.ActionOK, protocol.ActionError:
			u.answer(gen, f)
		case protocol.ActionMessage, protocol.ActionActivity, protocol.ActionTyping, protocol.ActionReaction,
			protocol.ActionMember, "update", "retract":
			if f.Space != "" {
				u.record(chatRecv{phase: int(ch.phase.Load()), action: f.Action, space: f.Space, id: f.ID,
					marker: f.Body, conn: gen, live: true})
			}
		}
	}
}

// run sends phase p's messages at the configured rate until ctx ends, then
// waits for the sends in flight (bounded by sendCtx and their timeout).
func (ch *chat) run(ctx, sendCtx context.Context, p int) {
	ch.phase.Store(int64(p))
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(time.Second / time.Duration(ch.cfg.rate))
	defer tick.Stop()
	senders := ch.users[:ch.cfg.users-ch.cfg.outsiders]
	outsiders := ch.users[len(senders):]
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if len(outsiders) > 0 && n%chatProbeEvery == 0 {
			u := outsiders[ch.rng.IntN(len(outsiders))]
			k := ch.rng.IntN(len(ch.spaceIDs))
			if u.busy.CompareAndSwap(false, true) {
				wg.Go(func() {
					defer u.busy.Store(false)
					ch.probeSend(sendCtx, u, k)
				})
			}
			continue
		}
		u := senders[ch.rng.IntN(len(senders))]
		k := u.spaces[ch.rng.IntN(len(u.spaces))]
		route := chatWS
		if ch.rng.IntN(4) == 0 {
			route = chatREST
		}
		if !u.busy.CompareAndSwap(false, true) {
			ch.stat(func(s *chatStats) { s.skipped++ })
			continue
		}
		wg.Go(func() {
			defer u.busy.Store(false)
			ch.send(sendCtx, u, k, route, p)
		})
	}
}

// send sends one message as u to space k, never retried.
func (ch *chat) send(ctx context.Context, u *chatUser, k int, route chatRoute, p int) {
	u.mu.Lock()
	u.sends++
	n := u.sends
	u.mu.Unlock()
	s := &chatSent{phase: p, space: k, sender: u.index, n: n, route: route,
		marker: fmt.Sprintf("chaos-chat p%d u%03d n%d", p, u.index, n)}
	if route == chatREST {
		ch.ledger.add(s)
		g := ch.gws[n%len(ch.gws)]
		body, _ := json.Marshal(protocol.Send{Kind: protocol.KindChat, Body: s.marker})
		var out struct {
			ID string `json:"id"`
		}
		code, err := ch.rest(ctx, g, http.MethodPost, "/api/spaces/"+url.PathEscape(ch.spaceIDs[k])+"/messages",
			ch.pubToken, u.principal, body, &out)
		switch {
		case err != nil:
			ch.ledger.settle(s, chatFailed, "rest "+shortErr(err), "")
		case code != http.StatusCreated || out.ID == "":
			ch.ledger.settle(s, chatFailed, fmt.Sprintf("rest %d", code), "")
		default:
			ch.ledger.settle(s, chatOK, "", out.ID)
		}
		return
	}
	conn, gen := u.current()
	if conn == nil {
		ch.stat(func(s *chatStats) { s.skipped++ })
		return
	}
	s.conn = gen
	ch.ledger.add(s)
	f, err := u.command(ctx, conn, gen, protocol.Command{Action: protocol.ActionSend, Space: ch.spaceIDs[k],
		Send: protocol.Send{Kind: protocol.KindChat, Body: s.marker}})
	switch {
	case err != nil:
		ch.ledger.settle(s, chatFailed, shortErr(err), "")
	case f.Action != protocol.ActionOK:
		ch.ledger.settle(s, chatFailed, f.Code, "")
	case f.ID == "":
		ch.ledger.settle(s, chatFailed, "ok without id", "")
	default:
		ch.ledger.settle(s, chatOK, "", f.ID)
	}
}

// probeSend has outsider u send to space k: it must be refused not_found.
func (ch *chat) probeSend(ctx context.Context, u *chatUser, k int) {
	conn, gen := u.current()
	if conn == nil {
		return
	}
	f, err := u.command(ctx, conn, gen, protocol.Command{Action: protocol.ActionSend, Space: ch.spaceIDs[k],
		Send: protocol.Send{Kind: protocol.KindChat, Body: fmt.Sprintf("chaos-chat outsider u%03d", u.index)}})
	switch {
	case err != nil:
		ch.countProbe("send " + shortErr(err))
	case f.Action == protocol.ActionOK:
		ch.countProbe("accepted")
	default:
		ch.countProbe(f.Code)
	}
}

// chatMissing returns how many owed deliveries of phase p have not arrived.
func (ch *chat) missing(p int) int {
	return ch.account(p).lost
}

// account snapshots the books and computes phase p's tally.
func (ch *chat) account(p int) chatTally {
	sends := ch.ledger.snapshot()
	views := make([]chatView, len(ch.users))
	for i, u := range ch.users {
		views[i].spaces = map[string]bool{}
		for _, k := range u.spaces {
			views[i].spaces[ch.spaceIDs[k]] = true
		}
		u.mu.Lock()
		views[i].recvs = slices.Clone(u.recvs)
		u.mu.Unlock()
	}
	return chatAccount(p, sends, views, ch.spaceIDs, ch.members)
}

// cut closes a random user's TCP connection (the order fault).
func (ch *chat) cut(rng *rand.Rand) bool {
	return ch.users[rng.IntN(len(ch.users))].tcp.cut()
}

// begin starts a new connection generation. The ids known now are the
// gap's lower edge for every space that has no unfilled gap yet.
func (u *chatUser) begin(spaceIDs []string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.gen++
	u.pending = map[string]chan chatFrame{}
	var known map[string]bool // shared by the spaces, never written after
	for _, k := range u.spaces {
		id := spaceIDs[k]
		if u.gapFrom[id] != nil {
			continue
		}
		if known == nil {
			known = make(map[string]bool, len(u.known))
			for m := range u.known {
				known[m] = true
			}
		}
		u.gapFrom[id] = known
	}
	return u.gen
}

// end closes connection gen: its waiters get errChatClosed.
func (u *chatUser) end(gen int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.gen != gen {
		return
	}
	u.conn = nil
	for rid, w := range u.pending {
		close(w)
		delete(u.pending, rid)
	}
}

func (u *chatUser) setReady(conn *websocket.Conn, gen int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.gen == gen {
		u.conn = conn
	}
}

// current returns the ready connection and its generation (nil if none).
func (u *chatUser) current() (*websocket.Conn, int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.conn, u.gen
}

func (u *chatUser) gapStart(space string) map[string]bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.gapFrom[space]
}

// record keeps a receipt; for a message, it reports whether its id was new
// to u.
func (u *chatUser) record(r chatRecv) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.recvs = append(u.recvs, r)
	if r.action != protocol.ActionMessage || u.known[r.id] {
		return false
	}
	u.known[r.id] = true
	return true
}

// answer hands an ok or error frame to the command waiting for its rid.
func (u *chatUser) answer(gen int, f chatFrame) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if w, ok := u.pending[f.RID]; ok && u.gen == gen {
		w <- f // buffered, one answer per rid
		delete(u.pending, f.RID)
	}
}

// command sends cmd (with a fresh rid) on connection gen and waits for its
// answer.
func (u *chatUser) command(ctx context.Context, conn *websocket.Conn, gen int, cmd protocol.Command) (chatFrame, error) {
	u.mu.Lock()
	if u.gen != gen {
		u.mu.Unlock()
		return chatFrame{}, errChatClosed
	}
	u.rids++
	cmd.RID = fmt.Sprintf("c%d-%d", gen, u.rids)
	w := make(chan chatFrame, 1)
	u.pending[cmd.RID] = w
	u.mu.Unlock()
	forget := func() {
		u.mu.Lock()
		defer u.mu.Unlock()
		if u.gen == gen {
			delete(u.pending, cmd.RID)
		}
	}
	data, err := json.Marshal(cmd)
	if err != nil {
		forget()
		return chatFrame{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, chatCommandTimeout)
	defer cancel()
	if err := conn.Write(ctx, websocket.MessageText, data); err != nil {
		forget()
		return chatFrame{}, errChatClosed
	}
	select {
	case f, ok := <-w:
		if !ok {
			return chatFrame{}, errChatClosed
		}
		return f, nil
	case <-ctx.Done():
		forget()
		return chatFrame{}, errors.New("timeout")
	}
}
