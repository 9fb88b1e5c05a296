package space_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/protocol"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/internal/redistest"
	"github.com/notifyd/notifyd/space"
)

func TestMembership(t *testing.T) {
	forEachBackend(t, func(t *testing.T, rdb *redis.Client, _ *redistest.Server) {
		e := newEnv(t, rdb, nil)
		c := ctx(t)
		sp := e.mustCreate(t, "Team", "bob", "bob", "alice", "carol")
		equal(t, "members at creation", principals(sp.Members), []string{"alice*", "bob", "carol"})
		if sp.Kind != space.KindGroup || sp.MembersCount != 3 || sp.Title != "Team" {
			t.Fatalf("created %+v", sp)
		}

		got, err := e.svc.Get(c, bob, sp.ID)
		wantErr(t, "Get as member", err, nil)
		equal(t, "members", principals(got.Members), []string{"alice*", "bob", "carol"})

		// Only moderators manage.
		_, err = e.svc.AddMember(c, bob, sp.ID, "dave", false)
		wantErr(t, "AddMember by a member", err, space.ErrForbidden)
		_, err = e.svc.Rename(c, bob, sp.ID, "Mine")
		wantErr(t, "Rename by a member", err, space.ErrForbidden)
		wantErr(t, "Delete by a member", e.svc.Delete(c, bob, sp.ID), space.ErrForbidden)
		wantErr(t, "RemoveMember of another by a member", e.svc.RemoveMember(c, bob, sp.ID, "carol"), space.ErrForbidden)

		_, err = e.svc.AddMember(c, alice, sp.ID, "dave", false)
		wantErr(t, "AddMember", err, nil)
		renamed, err := e.svc.Rename(c, alice, sp.ID, "Team 2")
		wantErr(t, "Rename", err, nil)
		if renamed.Title != "Team 2" {
			t.Fatalf("renamed title %q", renamed.Title)
		}
		// Promote bob; a moderator cannot demote itself.
		_, err = e.svc.AddMember(c, alice, sp.ID, "bob", true)
		wantErr(t, "promote", err, nil)
		_, err = e.svc.AddMember(c, alice, sp.ID, "alice", false)
		wantErr(t, "self demotion", err, space.ErrInvalid)
		ms, err := e.svc.Members(c, dave, sp.ID)
		wantErr(t, "Members", err, nil)
		equal(t, "members after changes", principals(ms), []string{"alice*", "bob*", "carol", "dave"})

		// Leave, remove, and unknown member.
		wantErr(t, "carol leaves", e.svc.RemoveMember(c, carol, sp.ID, "carol"), nil)
		wantErr(t, "bob removes dave", e.svc.RemoveMember(c, bob, sp.ID, "dave"), nil)
		wantErr(t, "remove a non-member", e.svc.RemoveMember(c, bob, sp.ID, "zed"), space.ErrNotFound)
		_, err = e.svc.Get(c, carol, sp.ID)
		wantErr(t, "Get after leaving", err, space.ErrNotFound)
		ids, err := e.svc.MemberOf(c, host, "carol", 0)
		wantErr(t, "MemberOf", err, nil)
		equal(t, "carol's spaces", ids, nil)
		for _, who := range []string{"alice", "bob"} {
			if m, _, err := e.svc.IsMember(c, host, sp.ID, who); err != nil || !m {
				t.Fatalf("IsMember(%s) = %v, %v", who, m, err)
			}
		}
		if m, _, err := e.svc.IsMember(c, host, sp.ID, "dave"); err != nil || m {
			t.Fatalf("IsMember(dave) after removal = %v, %v", m, err)
		}

		// Delete: every member loses the space.
		wantErr(t, "Delete", e.svc.Delete(c, bob, sp.ID), nil)
		_, err = e.svc.Get(c, alice, sp.ID)
		wantErr(t, "Get after delete", err, space.ErrNotFound)
		list, err := e.svc.List(c, alice)
		wantErr(t, "List after delete", err, nil)
		equal(t, "alice's spaces", spaceIDs(list), []string{})
	})
}

func TestLastModeratorLeaves(t *testing.T) {
	forEachBackend(t, func(t *testing.T, rdb *redis.Client, _ *redistest.Server) {
		e := newEnv(t, rdb, nil)
		c := ctx(t)
		sp := e.mustCreate(t, "Team", "carol")
		e.clock.Advance(time.Second)
		_, err := e.svc.AddMember(c, alice, sp.ID, "bob", false)
		wantErr(t, "AddMember", err, nil)
		// carol joined first: she becomes moderator.
		wantErr(t, "alice leaves", e.svc.RemoveMember(c, alice, sp.ID, "alice"), nil)
		ms, err := e.svc.Members(c, bob, sp.ID)
		wantErr(t, "Members", err, nil)
		equal(t, "members", principals(ms), []string{"bob", "carol*"})
		wantErr(t, "carol leaves", e.svc.RemoveMember(c, carol, sp.ID, "carol"), nil)
		ms, _ = e.svc.Members(c, bob, sp.ID)
		equal(t, "members", principals(ms), []string{"bob*"})
		// The last member leaving deletes the space.
		wantErr(t, "bob leaves", e.svc.RemoveMember(c, bob, sp.ID, "bob"), nil)
		n, err := rdb.Exists(c, e.cfg.Prefix(host)+"s:"+sp.ID, e.cfg.Prefix(host)+"sm:"+sp.ID).Result()
		if err != nil || n != 0 {
			t.Fatalf("keys left after the last member left: %d, %v", n, err)
		}
	})
}

// TestNonMember: a non-member gets ErrNotFound for everything, as for a
// space that does not exist.
func TestNonMember(t *testing.T) {
	forEachBackend(t, func(t *testing.T, rdb *redis.Client, _ *redistest.Server) {
		e := newEnv(t, rdb, nil)
		c := ctx(t)
		sp := e.mustCreate(t, "Team", "bob")
		msg := e.mustSend(t, bob, sp.ID, chat("hi"))
		for _, id := range []string{sp.ID, "01NOSUCHSPACE000000000000A", "bad id!"} {
			ops := map[string]error{}
			_, ops["Get"] = e.svc.Get(c, dave, id)
			_, ops["Members"] = e.svc.Members(c, dave, id)
			_, ops["Rename"] = e.svc.Rename(c, dave, id, "x")
			ops["Delete"] = e.svc.Delete(c, dave, id)
			_, ops["AddMember"] = e.svc.AddMember(c, dave, id, "dave", true)
			ops["RemoveMember"] = e.svc.RemoveMember(c, dave, id, "bob")
			_, _, ops["Messages"] = e.svc.Messages(c, dave, id, "", 0, "")
			_, ops["Send"] = e.svc.Send(c, dave, id, chat("x"), space.SendOptions{})
			ops["Typing"] = e.svc.Typing(c, dave, id)
			ops["Read"] = e.svc.Read(c, dave, id, msg.ID)
			_, ops["Guest"] = e.svc.Guest(c, dave, id, "Guest")
			for op, err := range ops {
				if op == "Guest" {
					continue // not configured here: see TestGuest
				}
				wantErr(t, op+" "+id, err, space.ErrNotFound)
			}
		}
		_, err := e.svc.React(c, dave, msg.ID, "👍", false)
		wantErr(t, "React", err, space.ErrNotFound)
		wantErr(t, "Edit", e.svc.Edit(c, dave, msg.ID, "x"), space.ErrNotFound)
		wantErr(t, "DeleteMessage", e.svc.DeleteMessage(c, dave, msg.ID), space.ErrNotFound)
		list, err := e.svc.List(c, dave)
		wantErr(t, "List", err, nil)
		equal(t, "dave's spaces", spaceIDs(list), []string{})
		// Another site is another world.
		other := bob
		other.Host = "https://other.example.com"
		_, err = e.svc.Get(c, other, sp.ID)
		wantErr(t, "Get on another site", err, space.ErrNotFound)
	})
}

func TestDirect(t *testing.T) {
	forEachBackend(t, func(t *testing.T, rdb *redis.Client, _ *redistest.Server) {
		e := newEnv(t, rdb, nil)
		c := ctx(t)
		// Concurrent calls from both sides give one space, created once.
		type result struct {
			sp      space.Space
			created bool
			err     error
		}
		results := make(chan result, 8)
		for i := range 8 {
			go func() {
				me, other := alice, "bob"
				if i%2 == 1 {
					me, other = bob, "alice"
				}
				sp, created, err := e.svc.Direct(c, me, other)
				results <- result{sp, created, err}
			}()
		}
		created, id := 0, ""
		for range 8 {
			r := <-results
			wantErr(t, "Direct", r.err, nil)
			if r.created {
				created++
			}
			if id == "" {
				id = r.sp.ID
			} else if r.sp.ID != id {
				t.Fatalf("two direct spaces: %s and %s", id, r.sp.ID)
			}
		}
		if created != 1 {
			t.Fatalf("created by %d calls, want 1", created)
		}
		if id != space.DirectID(host, "bob", "alice") || id != space.DirectID(host, "alice", "bob") {
			t.Fatalf("id %s is not DirectID", id)
		}
		sp, created2, err := e.svc.Direct(c, bob, "alice")
		wantErr(t, "Direct again", err, nil)
		if created2 || sp.Kind != space.KindDirect || sp.MembersCount != 2 {
			t.Fatalf("Direct again: %+v created=%v", sp, created2)
		}
		equal(t, "direct members", principals(sp.Members), []string{"alice", "bob"})
		if sp.Title != "Alice" {
			t.Fatalf("bob sees the direct space titled %q, want Alice", sp.Title)
		}

		_, _, err = e.svc.Direct(c, alice, "alice")
		wantErr(t, "Direct with oneself", err, space.ErrInvalid)
		_, err = e.svc.AddMember(c, alice, id, "carol", false)
		wantErr(t, "AddMember to a direct space", err, space.ErrForbidden)
		wantErr(t, "leave a direct space", e.svc.RemoveMember(c, alice, id, "alice"), space.ErrForbidden)
		_, err = e.svc.Rename(c, alice, id, "x")
		wantErr(t, "Rename a direct space", err, space.ErrForbidden)
		wantErr(t, "Delete a direct space", e.svc.Delete(c, alice, id), space.ErrForbidden)
		_, err = e.svc.Get(c, carol, id)
		wantErr(t, "Get by a third", err, space.ErrNotFound)

		// A direct message: the notification title is the sender's.
		e.mustSend(t, alice, id, chat("psst"))
		msgs, _, err := e.svc.Messages(c, bob, id, "", 0, "")
		wantErr(t, "Messages", err, nil)
		equal(t, "direct messages", bodies(msgs), []string{"psst"})
		p, err := e.hist.Page(c, history.Reader{Host: host, User: "bob", Principals: []string{protocol.SpacePrincipal(id)}}, history.PageOptions{})
		if err != nil || len(p.Items) != 1 {
			t.Fatalf("bob's inbox: %+v, %v", p, err)
		}
		m := p.Items[0].Message
		f, err := protocol.ParseSpaceField(m.Extra["space"])
		if err != nil || !f.Direct || m.Title != "Alice" || m.Body != "psst" {
			t.Fatalf("direct message stored as %s", m.StoredJSON())
		}
		list, _ := e.svc.List(c, alice)
		if len(list) != 1 || list[0].Title != "Bob" {
			t.Fatalf("alice's direct space titled %q", list[0].Title)
		}
	})
}

func TestCreateLimits(t *testing.T) {
	forEachBackend(t, func(t *testing.T, rdb *redis.Client, _ *redistest.Server) {
		e := newEnv(t, rdb, func(c *space.Config) { c.MaxMembers, c.MaxSpacesPerUser = 3, 2 })
		c := ctx(t)
		_, err := e.svc.Create(c, alice, "Big", "", []string{"bob", "carol", "dave"})
		wantErr(t, "Create over MaxMembers", err, space.ErrInvalid)
		sp := e.mustCreate(t, "Three", "bob", "carol")
		_, err = e.svc.AddMember(c, alice, sp.ID, "dave", false)
		wantErr(t, "AddMember over MaxMembers", err, space.ErrInvalid)
		e.mustCreate(t, "Second")
		_, err = e.svc.Create(c, alice, "Third", "", nil)
		wantErr(t, "Create over MaxSpacesPerUser", err, space.ErrInvalid)
		_, _, err = e.svc.Direct(c, bob, "alice")
		wantErr(t, "Direct over MaxSpacesPerUser", err, space.ErrInvalid)
	})
}

// TestManageLimited: one user cannot create spaces (or add members) in a
// loop: beyond the burst, ErrRateLimited until the bucket refills.
func TestManageLimited(t *testing.T) {
	rdb, _ := redistest.Backends()[0].New(t)
	e := newEnv(t, rdb, func(c *space.Config) { c.ManageRate, c.ManageBurst = 1, 3 })
	c := ctx(t)
	for i := range 3 {
		if _, err := e.svc.Create(c, alice, fmt.Sprintf("S%d", i), "", []string{"bob"}); err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
	}
	_, err := e.svc.Create(c, alice, "one more", "", []string{"bob"})
	wantErr(t, "create beyond the burst", err, space.ErrRateLimited)
	_, _, err = e.svc.Direct(c, alice, "bob")
	wantErr(t, "direct beyond the burst", err, space.ErrRateLimited)
	e.clock.Advance(time.Second)
	if _, _, err := e.svc.Direct(c, alice, "bob"); err != nil {
		t.Fatalf("direct after a second: %v", err)
	}
}
