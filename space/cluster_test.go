package space_test

import (
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/internal/redistest"
	"github.com/notifyd/notifyd/protocol"
	"github.com/notifyd/notifyd/space"
)

// TestCluster runs the main operations on a 3-master Cluster, on sites
// whose slots fall on different masters: every script stays in its site's
// slot.
func TestCluster(t *testing.T) {
	cl := redistest.StartCluster(t, 3)
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs()})
	t.Cleanup(func() { _ = rdb.Close() })
	e := newEnv(t, rdb, nil)
	s := e.listen(t)
	c := ctx(t)
	// One site per master.
	masters := map[string]bool{}
	var sites []string
	for i := 0; len(sites) < 3 && i < 1000; i++ {
		site := fmt.Sprintf("https://site%d.example.com", i)
		if m := cl.MasterFor(e.cfg.Prefix(site) + "s:x").Addr(); !masters[m] {
			masters[m] = true
			sites = append(sites, site)
		}
	}
	if len(sites) != 3 {
		t.Fatalf("sites on %d masters", len(sites))
	}
	for _, site := range sites {
		a, b := alice, bob
		a.Host, b.Host = site, site

		sp, err := e.svc.Create(c, a, "Team", "", nil)
		wantErr(t, "Create", err, nil)
		_, err = e.svc.AddMember(c, a, sp.ID, "bob", false)
		wantErr(t, "AddMember", err, nil)
		m1, err := e.svc.Send(c, b, sp.ID, chat("hello "+site), space.SendOptions{})
		wantErr(t, "Send", err, nil)
		_, err = e.svc.Send(c, a, sp.ID, protocol.Send{Kind: protocol.KindChat, Body: "re", Thread: m1.ID}, space.SendOptions{})
		wantErr(t, "Send reply", err, nil)
		r, err := e.svc.React(c, a, m1.ID, "👍", false)
		wantErr(t, "React", err, nil)
		if r.Count != 1 {
			t.Fatalf("reaction count %d", r.Count)
		}
		list, err := e.svc.List(c, a)
		wantErr(t, "List", err, nil)
		if len(list) != 1 || list[0].Unread != 0 || list[0].LastMessage == nil || list[0].LastMessage.Body != "re" {
			t.Fatalf("alice's list on %s: %+v", site, list)
		}
		msgs, _, err := e.svc.Messages(c, b, sp.ID, "", 0, "")
		wantErr(t, "Messages", err, nil)
		equal(t, "messages", bodies(msgs), []string{"re", "hello " + site})
		if len(msgs[1].Reactions) != 1 || msgs[1].Reactions[0].Count != 1 {
			t.Fatalf("reactions %+v", msgs[1].Reactions)
		}
		wantErr(t, "Read", e.svc.Read(c, b, sp.ID, msgs[0].ID), nil)
		d1, created, err := e.svc.Direct(c, a, "bob")
		wantErr(t, "Direct", err, nil)
		d2, _, err := e.svc.Direct(c, b, "alice")
		wantErr(t, "Direct back", err, nil)
		if !created || d1.ID != d2.ID {
			t.Fatalf("direct spaces %s and %s (created %v)", d1.ID, d2.ID, created)
		}
		poll.Until(t, "events on "+site, func() bool {
			return s.has("member "+sp.ID+" bob joined=true deleted=false",
				fmt.Sprintf("reaction %s %s 👍 alice remove=false count=1", sp.ID, m1.ID))
		})
	}
}
