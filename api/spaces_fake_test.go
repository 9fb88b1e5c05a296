package api

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/notifyd/notifyd/protocol"
	"github.com/notifyd/notifyd/space"
	"github.com/notifyd/notifyd/webhook"
)

// The canonical JSON of what the fakes answer: the shapes space.Space and
// space.Invitation marshal to. The fakes decode them (so that the tests
// compile against any version of the types that keeps their JSON tags)
// and the tests compare the answers with the fakes' values marshalled again.
const (
	spaceJSON = `{"id":"S1","title":"Team","kind":"group","created":"2025-01-18T17:21:00.000000+00:00",` +
		`"members":[{"principal":"users:jdoe","moderator":true},{"principal":"users:bob","moderator":false}],` +
		`"members_count":2,"unread":0}`
	spaceListJSON = `{"id":"S1","title":"Team","kind":"group","created":"2025-01-18T17:21:00.000000+00:00","members_count":2,"unread":1,` +
		`"last_message":{"space":"S1","id":"M2","kind":"chat","body":"hello","sender":{"id":"users:bob","title":"Bob"},"timestamp":"2025-01-18T17:21:00.000000+00:00"}}`
	invitationJSON = `{"token":"guest-token","principal":"guest:0123456789abcdef","expires":"2025-01-19T17:21:00Z"}`
)

// fakeMessage is a space message with every optional member set.
func fakeMessage() protocol.SpaceMessage {
	return protocol.SpaceMessage{
		Space: "S1", ID: "M2", Kind: protocol.KindTask, Body: "ship it", Title: "Release", Thread: "M1",
		Attachments: []protocol.Attachment{{ID: "A1", Name: "notes.pdf", Size: 1234, Type: "file", MIME: "application/pdf",
			URL: "https://files.example/notes.pdf", Thumbnail: "https://files.example/notes.png"}},
		Task:      &protocol.Task{Assignee: "users:bob", Due: "2025-01-20T12:00:00Z", Status: protocol.TaskOpen},
		Sender:    protocol.Sender{ID: "users:jdoe", Title: "John"},
		Timestamp: "2025-01-18T17:21:00.000000+00:00",
		Reactions: []protocol.ReactionCount{{Emoji: "👍", Count: 2, Principals: []string{"users:bob", "users:jdoe"}}},
	}
}

// decodeAs decodes one of the constants above.
func decodeAs[T any](data string) T {
	var v T
	if err := json.Unmarshal([]byte(data), &v); err != nil {
		panic(err)
	}
	return v
}

// spaceCall is one call a fakeSpaces received.
type spaceCall struct {
	method string
	caller space.Caller
	args   []any // the other arguments, ctx apart
}

// fakeSpaces answers fixed values and records every call. errs[id] (or
// errs[""] for every call) is returned instead when set.
type fakeSpaces struct {
	errs    map[string]error // immutable after construction
	created bool             // Direct's answer; immutable after construction

	mu    sync.Mutex
	calls []spaceCall // guarded by mu
}

var _ Spaces = (*fakeSpaces)(nil)

func (f *fakeSpaces) record(method string, c space.Caller, id string, args ...any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, spaceCall{method: method, caller: c, args: args})
	if err := f.errs[id]; err != nil {
		return err
	}
	return f.errs[""]
}

// got returns the calls received so far.
func (f *fakeSpaces) got() []spaceCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// wantNoCall fails tb if f received any call.
func (f *fakeSpaces) wantNoCall(tb testing.TB) {
	tb.Helper()
	if calls := f.got(); len(calls) != 0 {
		tb.Fatalf("the service was called: %+v", calls)
	}
}

func (f *fakeSpaces) space() space.Space { return decodeAs[space.Space](spaceJSON) }

func (f *fakeSpaces) Create(_ context.Context, c space.Caller, title, kind string, members []string) (space.Space, error) {
	err := f.record("Create", c, "", title, kind, members)
	return f.space(), err
}

func (f *fakeSpaces) List(_ context.Context, c space.Caller) ([]space.Space, error) {
	if err := f.record("List", c, ""); err != nil {
		return nil, err
	}
	return []space.Space{decodeAs[space.Space](spaceListJSON)}, nil
}

func (f *fakeSpaces) Get(_ context.Context, c space.Caller, id string) (space.Space, error) {
	return f.space(), f.record("Get", c, id, id)
}

func (f *fakeSpaces) Rename(_ context.Context, c space.Caller, id, title string) (space.Space, error) {
	return f.space(), f.record("Rename", c, id, id, title)
}

func (f *fakeSpaces) Delete(_ context.Context, c space.Caller, id string) error {
	return f.record("Delete", c, id, id)
}

func (f *fakeSpaces) Members(_ context.Context, c space.Caller, id string) ([]space.Member, error) {
	if err := f.record("Members", c, id, id); err != nil {
		return nil, err
	}
	return []space.Member{{Principal: "users:jdoe", Moderator: true}, {Principal: "users:bob"}}, nil
}

func (f *fakeSpaces) AddMember(_ context.Context, c space.Caller, id, principal string, moderator bool) (space.Member, error) {
	return space.Member{Principal: principal, Moderator: moderator}, f.record("AddMember", c, id, id, principal, moderator)
}

func (f *fakeSpaces) RemoveMember(_ context.Context, c space.Caller, id, principal string) error {
	return f.record("RemoveMember", c, id, id, principal)
}

func (f *fakeSpaces) Direct(_ context.Context, c space.Caller, other string) (space.Space, bool, error) {
	err := f.record("Direct", c, other, other)
	return f.space(), f.created && err == nil, err
}

func (f *fakeSpaces) Messages(_ context.Context, c space.Caller, id, before string, limit int, thread string) ([]protocol.SpaceMessage, string, error) {
	if err := f.record("Messages", c, id, id, before, limit, thread); err != nil {
		return nil, "", err
	}
	return []protocol.SpaceMessage{fakeMessage()}, "M1", nil
}

func (f *fakeSpaces) Send(_ context.Context, c space.Caller, id string, m protocol.Send, _ space.SendOptions) (protocol.SpaceMessage, error) {
	if err := f.record("Send", c, id, id, m); err != nil {
		return protocol.SpaceMessage{}, err
	}
	return protocol.SpaceMessage{
		Action: protocol.ActionMessage, Space: id, ID: "M3", Kind: m.Kind, Body: m.Body, Title: m.Title, Thread: m.Thread,
		Attachments: m.Attachments, Task: m.Task, Sender: protocol.Sender{ID: c.Principal, Title: c.Title},
		Timestamp: "2025-01-18T17:21:00.000000+00:00",
	}, nil
}

func (f *fakeSpaces) Guest(_ context.Context, c space.Caller, id, name string) (space.Invitation, error) {
	return decodeAs[space.Invitation](invitationJSON), f.record("Guest", c, id, id, name)
}

// fakeWebhooks keeps registrations in memory, scoped as webhook.Store
// scopes them: by site and owner. err, when set, is returned by every call.
type fakeWebhooks struct {
	err error // immutable after construction

	mu   sync.Mutex
	regs []webhook.Registration // guarded by mu
	seq  int                    // guarded by mu
}

var _ Webhooks = (*fakeWebhooks)(nil)

func (f *fakeWebhooks) Register(_ context.Context, r webhook.Registration) (webhook.Registration, error) {
	if f.err != nil {
		return webhook.Registration{}, f.err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	r.ID, r.Created = fmt.Sprintf("W%d", f.seq), "2025-01-18T17:21:00Z"
	f.regs = append(f.regs, r)
	return r, nil
}

func (f *fakeWebhooks) List(_ context.Context, host, owner string) ([]webhook.Registration, error) {
	if f.err != nil {
		return nil, f.err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []webhook.Registration
	for _, r := range f.regs {
		if r.Host == host && r.Owner == owner {
			out = append(out, r)
		}
	}
	return out, nil
}

func (f *fakeWebhooks) Delete(_ context.Context, host, owner, id string) error {
	if f.err != nil {
		return f.err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	i := slices.IndexFunc(f.regs, func(r webhook.Registration) bool { return r.Host == host && r.Owner == owner && r.ID == id })
	if i < 0 {
		return webhook.ErrNotFound
	}
	f.regs = slices.Delete(f.regs, i, i+1)
	return nil
}

// registrations returns every stored registration, secrets included.
func (f *fakeWebhooks) registrations() []webhook.Registration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.regs)
}

// marshal is v's JSON, as the router writes it.
func marshal(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b) + "\n"
}
