package space

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/protocol"
)

// Space kinds.
const (
	KindGroup  = "group"
	KindDirect = "direct"
)

// Space is a space as its members see it. LastMessage is a preview: its
// body cut to 1 KiB, without attachments nor reactions (Messages has the
// whole message).
type Space struct {
	ID           string                 `json:"id"`
	Title        string                 `json:"title"`
	Kind         string                 `json:"kind"`
	Created      string                 `json:"created"`
	Members      []Member               `json:"members,omitempty"`
	MembersCount int                    `json:"members_count"`
	Unread       int                    `json:"unread"`
	LastMessage  *protocol.SpaceMessage `json:"last_message,omitempty"`
}

// isGuest reports whether p is a guest principal.
func isGuest(p string) bool { return strings.HasPrefix(p, guestPrefix) }

// Create makes a group space (kind "" or "group"; direct spaces come from
// Direct) titled title, with the caller as moderator and members as
// non-moderator members (duplicates and the caller are dropped).
func (s *Service) Create(ctx context.Context, c Caller, title, kind string, members []string) (Space, error) {
	const op = "create"
	if err := checkCaller(op, &c); err != nil {
		return Space{}, err
	}
	if err := s.allowManage(op, c); err != nil {
		return Space{}, err
	}
	if isGuest(c.Principal) {
		return Space{}, failure(op, ErrForbidden, "guests cannot create spaces")
	}
	if kind = cmp.Or(kind, KindGroup); kind != KindGroup {
		return Space{}, invalid(op, "kind", "must be group (direct spaces come from Direct)")
	}
	if err := checkLine(op, "title", title, MaxTitle, true); err != nil {
		return Space{}, err
	}
	all := []string{c.Principal}
	for _, p := range members {
		if err := checkPrincipal(op, "members", p); err != nil {
			return Space{}, err
		}
		if isGuest(p) {
			return Space{}, failure(op, ErrForbidden, "guests join only through their invitation")
		}
		if !slices.Contains(all, p) {
			all = append(all, p)
		}
		if len(all) > s.cfg.MaxMembers {
			return Space{}, invalid(op, "members", "has more than %d entries", s.cfg.MaxMembers)
		}
	}
	now := s.cfg.Now()
	id := s.cfg.IDGen.New(now)
	if !validSpaceID(id) {
		return Space{}, failure(op, ErrUnavailable, "Config.IDGen made an id that is not letters and digits")
	}
	created := message.FormatTimestamp(now)
	args := []any{id, KindGroup, title, created, now.UnixMilli(), s.cfg.MaxSpacesPerUser, c.Title}
	for _, p := range all {
		args = append(args, p)
	}
	if _, err := s.run(ctx, op, createLua, c.Host, s.key(c.Host, "s:", id), args...); err != nil {
		return Space{}, err
	}
	s.stats.created.Add(1)
	sp := Space{ID: id, Title: title, Kind: KindGroup, Created: created, MembersCount: len(all)}
	evs := make([]event, len(all))
	for i, p := range all {
		sp.Members = append(sp.Members, Member{Principal: p, Moderator: i == 0})
		evs[i] = event{Type: eventMember, Host: c.Host, Space: id, Principal: p, Joined: true}
	}
	s.publishEvents(ctx, evs...)
	sortMembers(sp.Members)
	s.log.Debug("space: created", "host", c.Host, "space", id, "principal", c.Principal, "members", len(all))
	return sp, nil
}

// DirectID returns the id of the direct space of a and b on host: "d" and
// 26 lower-case base32 characters of the SHA-256 of the lower-cased host
// and the sorted pair. Whichever of the two asks, the id is the same.
func DirectID(host, a, b string) string {
	if b < a {
		a, b = b, a
	}
	sum := sha256.Sum256([]byte(strings.ToLower(host) + "\n" + a + "\n" + b))
	return "d" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:]))[:26]
}

// Direct returns the direct space of the caller and other, creating it
// (atomically: concurrent calls create it once) when it does not exist;
// created reports that this call did.
func (s *Service) Direct(ctx context.Context, c Caller, other string) (sp Space, created bool, err error) {
	const op = "direct"
	if err := checkCaller(op, &c); err != nil {
		return Space{}, false, err
	}
	if err := s.allowManage(op, c); err != nil {
		return Space{}, false, err
	}
	if err := checkPrincipal(op, "principal", other); err != nil {
		return Space{}, false, err
	}
	switch {
	case other == c.Principal:
		return Space{}, false, invalid(op, "principal", "must not be the caller")
	case isGuest(c.Principal) || isGuest(other):
		return Space{}, false, failure(op, ErrForbidden, "guests have no direct spaces")
	}
	id := DirectID(c.Host, c.Principal, other)
	now := s.cfg.Now()
	v, err := s.runStatus(ctx, op, createLua, c.Host, s.key(c.Host, "s:", id),
		id, KindDirect, "", message.FormatTimestamp(now), now.UnixMilli(), s.cfg.MaxSpacesPerUser, c.Title, c.Principal, other)
	if err != nil {
		return Space{}, false, err
	}
	switch status := str(v[0]); status {
	case "ok":
		created = true
		s.stats.created.Add(1)
		s.publishEvents(ctx,
			event{Type: eventMember, Host: c.Host, Space: id, Principal: c.Principal, Joined: true},
			event{Type: eventMember, Host: c.Host, Space: id, Principal: other, Joined: true})
	case "exists":
	default:
		detail := ""
		if len(v) > 1 {
			detail = str(v[1])
		}
		return Space{}, false, scriptErr(op, status, detail)
	}
	sp, err = s.Get(ctx, c, id)
	return sp, created, err
}

// readSpace reads the space hash, its members (all of them, or only their
// count), and the reader's read cursor, in one pipeline.
type spaceRead struct {
	id      string
	hash    *redis.SliceCmd           // spaceFields
	members *redis.MapStringStringCmd // nil: count only
	count   *redis.IntCmd
	cursor  *redis.StringCmd
}

func (s *Service) queueRead(p redis.Pipeliner, host, reader, id string, withMembers bool) *spaceRead {
	ctx := context.Background() // pipelined commands do not use it
	r := &spaceRead{id: id, hash: p.HMGet(ctx, s.key(host, "s:", id), spaceFields...), cursor: p.HGet(ctx, s.key(host, "sr:", reader), id)}
	if withMembers {
		r.members = p.HGetAll(ctx, s.key(host, "sm:", id))
	} else {
		r.count = p.HLen(ctx, s.key(host, "sm:", id))
	}
	return r
}

// spaceFields are the fields of a space hash that reads need.
var spaceFields = []string{"title", "kind", "created", "act", "n", "last", "p1", "p2", "t1", "t2"}

// space decodes r for reader; ok is false when the space does not exist.
func (r *spaceRead) space(reader string, withMembers bool) (sp Space, act int64, ok bool) {
	h := make(map[string]string, len(spaceFields))
	for i, v := range r.hash.Val() {
		if i < len(spaceFields) {
			h[spaceFields[i]] = str(v)
		}
	}
	if h["kind"] == "" {
		return Space{}, 0, false
	}
	sp = Space{ID: r.id, Title: h["title"], Kind: h["kind"], Created: h["created"]}
	act, _ = strconv.ParseInt(h["act"], 10, 64)
	n, _ := strconv.Atoi(h["n"])
	cur, _ := strconv.Atoi(r.cursor.Val())
	sp.Unread = max(0, n-cur)
	if raw := h["last"]; raw != "" {
		var m protocol.SpaceMessage
		if json.Unmarshal([]byte(raw), &m) == nil {
			sp.LastMessage = &m
		}
	}
	if r.members != nil {
		for p, mod := range r.members.Val() {
			sp.Members = append(sp.Members, Member{Principal: p, Moderator: mod == "1"})
		}
		sortMembers(sp.Members)
		sp.MembersCount = len(sp.Members)
	} else {
		sp.MembersCount = int(r.count.Val())
	}
	if sp.Kind == KindDirect {
		other, title := h["p1"], h["t1"]
		if other == reader {
			other, title = h["p2"], h["t2"]
		}
		sp.Title = cmp.Or(title, other)
	}
	return sp, act, true
}

// member reports whether p is among r's members (read with members).
func (r *spaceRead) member(p string) bool {
	_, ok := r.members.Val()[p]
	return ok
}

func sortMembers(ms []Member) {
	slices.SortFunc(ms, func(a, b Member) int { return strings.Compare(a.Principal, b.Principal) })
}

// Get returns the space id with its members.
func (s *Service) Get(ctx context.Context, c Caller, id string) (Space, error) {
	const op = "get"
	if err := checkCaller(op, &c); err != nil {
		return Space{}, err
	}
	if !validSpaceID(id) {
		return Space{}, failure(op, ErrNotFound, "space")
	}
	p := s.rdb.Pipeline()
	r := s.queueRead(p, c.Host, c.Principal, id, true)
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return Space{}, s.redisErr(ctx, op, err)
	}
	sp, _, ok := r.space(c.Principal, true)
	if !ok || !r.member(c.Principal) {
		return Space{}, failure(op, ErrNotFound, "space")
	}
	return sp, nil
}

// List returns the caller's spaces (at most Config.MaxSpacesPerUser), most
// recent activity (last message, else creation) first, with their unread
// counts and last messages but without members.
func (s *Service) List(ctx context.Context, c Caller) ([]Space, error) {
	const op = "list"
	if err := checkCaller(op, &c); err != nil {
		return nil, err
	}
	ids, err := s.rdb.ZRevRange(ctx, s.key(c.Host, "us:", c.Principal), 0, int64(s.cfg.MaxSpacesPerUser)-1).Result()
	if err != nil {
		return nil, s.redisErr(ctx, op, err)
	}
	if len(ids) == 0 {
		return []Space{}, nil
	}
	p := s.rdb.Pipeline()
	reads := make([]*spaceRead, len(ids))
	for i, id := range ids {
		reads[i] = s.queueRead(p, c.Host, c.Principal, id, false)
	}
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, s.redisErr(ctx, op, err)
	}
	type entry struct {
		sp  Space
		act int64
	}
	out := make([]entry, 0, len(ids))
	for _, r := range reads {
		if sp, act, ok := r.space(c.Principal, false); ok {
			out = append(out, entry{sp, act})
		}
	}
	slices.SortStableFunc(out, func(a, b entry) int {
		return cmp.Or(cmp.Compare(b.act, a.act), strings.Compare(b.sp.ID, a.sp.ID))
	})
	spaces := make([]Space, len(out))
	for i, e := range out {
		spaces[i] = e.sp
	}
	return spaces, nil
}

// Rename sets the title of a group space (moderators).
func (s *Service) Rename(ctx context.Context, c Caller, id, title string) (Space, error) {
	const op = "rename"
	if err := s.checkSpaceOp(op, &c, id); err != nil {
		return Space{}, err
	}
	if err := checkLine(op, "title", title, MaxTitle, true); err != nil {
		return Space{}, err
	}
	if _, err := s.run(ctx, op, renameLua, c.Host, s.key(c.Host, "s:", id), id, c.Principal, title); err != nil {
		return Space{}, err
	}
	return s.Get(ctx, c, id)
}

// Delete deletes a group space (moderators): its members lose it at once
// (each gets a member event with Deleted); its messages stay in the
// history until they expire but nobody can read them.
func (s *Service) Delete(ctx context.Context, c Caller, id string) error {
	const op = "delete"
	if err := s.checkSpaceOp(op, &c, id); err != nil {
		return err
	}
	v, err := s.run(ctx, op, deleteLua, c.Host, s.key(c.Host, "s:", id), id, c.Principal)
	if err != nil {
		return err
	}
	evs := make([]event, 0, len(v)-1)
	for _, p := range v[1:] {
		evs = append(evs, event{Type: eventMember, Host: c.Host, Space: id, Principal: str(p), Deleted: true})
	}
	s.publishEvents(ctx, evs...)
	return nil
}

// Members returns the members of a space, by principal.
func (s *Service) Members(ctx context.Context, c Caller, id string) ([]Member, error) {
	sp, err := s.Get(ctx, c, id)
	if err != nil {
		return nil, err
	}
	return sp.Members, nil
}

// AddMember adds principal to a group space, or changes its moderator
// flag when it is a member already (moderators; a moderator cannot demote
// itself). A new member's read cursor starts at the space's last message:
// what was said before it joined is not unread.
func (s *Service) AddMember(ctx context.Context, c Caller, id, principal string, moderator bool) (Member, error) {
	const op = "add member"
	if err := s.checkSpaceOp(op, &c, id); err != nil {
		return Member{}, err
	}
	if err := s.allowManage(op, c); err != nil {
		return Member{}, err
	}
	if err := checkPrincipal(op, "principal", principal); err != nil {
		return Member{}, err
	}
	if isGuest(principal) {
		return Member{}, failure(op, ErrForbidden, "guests join only through their invitation")
	}
	return s.join(ctx, op, c, id, principal, moderator)
}

// join runs joinLua and announces a new member.
func (s *Service) join(ctx context.Context, op string, c Caller, id, principal string, moderator bool) (Member, error) {
	mod := "0"
	if moderator {
		mod = "1"
	}
	v, err := s.run(ctx, op, joinLua, c.Host, s.key(c.Host, "s:", id),
		id, c.Principal, principal, mod, s.nowMS(), s.cfg.MaxMembers, s.cfg.MaxSpacesPerUser)
	if err != nil {
		return Member{}, err
	}
	if num(v[1]) == 1 {
		s.publishEvent(ctx, event{Type: eventMember, Host: c.Host, Space: id, Principal: principal, Joined: true})
	}
	return Member{Principal: principal, Moderator: moderator}, nil
}

// RemoveMember removes principal from a group space: moderators remove
// anyone, any member removes itself (leaves). When the last moderator
// leaves, the member who joined first (then the smallest principal)
// becomes moderator; when the last member leaves, the space is deleted.
// Direct spaces keep their two members (ErrForbidden).
func (s *Service) RemoveMember(ctx context.Context, c Caller, id, principal string) error {
	const op = "remove member"
	if err := s.checkSpaceOp(op, &c, id); err != nil {
		return err
	}
	if err := checkLine(op, "principal", principal, MaxPrincipal, true); err != nil {
		return err
	}
	v, err := s.run(ctx, op, leaveLua, c.Host, s.key(c.Host, "s:", id), id, c.Principal, principal)
	if err != nil {
		return err
	}
	deleted := num(v[2]) == 1
	s.publishEvent(ctx, event{Type: eventMember, Host: c.Host, Space: id, Principal: principal, Deleted: deleted})
	if pr := str(v[1]); pr != "" {
		s.log.Debug("space: moderator promoted", "host", c.Host, "space", id, "principal", pr)
	}
	return nil
}

// IsMember reports whether principal is a member of the space id on host,
// and a moderator. An invalid id is no space: false, nil.
func (s *Service) IsMember(ctx context.Context, host, id, principal string) (member, moderator bool, err error) {
	if !validSpaceID(id) || principal == "" {
		return false, false, nil
	}
	v, err := s.rdb.HGet(ctx, s.key(host, "sm:", id), principal).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return false, false, nil
	case err != nil:
		return false, false, s.redisErr(ctx, "is member", err)
	}
	return true, v == "1", nil
}

// MemberOf returns the ids of the spaces principal belongs to on host,
// most recently joined first, at most limit (<= 0 or above
// Config.MaxSpacesPerUser: that maximum).
func (s *Service) MemberOf(ctx context.Context, host, principal string, limit int) ([]string, error) {
	if limit <= 0 || limit > s.cfg.MaxSpacesPerUser {
		limit = s.cfg.MaxSpacesPerUser
	}
	ids, err := s.rdb.ZRevRange(ctx, s.key(host, "us:", principal), 0, int64(limit)-1).Result()
	if err != nil {
		return nil, s.redisErr(ctx, "member of", err)
	}
	return ids, nil
}

// checkSpaceOp validates the caller (cleaning its title) and the space id
// of op (an invalid id is not found).
func (s *Service) checkSpaceOp(op string, c *Caller, id string) error {
	if err := checkCaller(op, c); err != nil {
		return err
	}
	if !validSpaceID(id) {
		return failure(op, ErrNotFound, "space")
	}
	return nil
}
