package space_test

import (
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/redistest"
	"github.com/notifyd/notifyd/protocol"
	"github.com/notifyd/notifyd/space"
)

func TestSendValidation(t *testing.T) {
	rdb, _ := redistest.Backends()[0].New(t)
	e := newEnv(t, rdb, func(c *space.Config) { c.SendRate = -1 })
	sp := e.mustCreate(t, "Team", "bob")
	att := func(mod func(*protocol.Attachment)) protocol.Send {
		a := protocol.Attachment{Name: "a.png", URL: "https://files.example.com/a.png"}
		mod(&a)
		return protocol.Send{Kind: protocol.KindChat, Body: "see", Attachments: []protocol.Attachment{a}}
	}
	task := func(mod func(*protocol.Task)) protocol.Send {
		tk := protocol.Task{Status: protocol.TaskOpen}
		mod(&tk)
		return protocol.Send{Kind: protocol.KindTask, Title: "Do", Task: &tk}
	}
	tooMany := protocol.Send{Kind: protocol.KindChat, Body: "x"}
	for range 11 {
		tooMany.Attachments = append(tooMany.Attachments, protocol.Attachment{Name: "a", URL: "https://x.example/a"})
	}
	cases := []struct {
		name string
		m    protocol.Send
		want error
	}{
		{"chat", protocol.Send{Kind: protocol.KindChat, Body: "hi"}, nil},
		{"chat multi-line with tab", protocol.Send{Kind: protocol.KindChat, Body: "a\n\tb\r\n"}, nil},
		{"chat no body", protocol.Send{Kind: protocol.KindChat}, space.ErrInvalid},
		{"chat blank body", protocol.Send{Kind: protocol.KindChat, Body: " \n "}, space.ErrInvalid},
		{"body too long", protocol.Send{Kind: protocol.KindChat, Body: strings.Repeat("x", space.MaxBody+1)}, space.ErrInvalid},
		{"body at the limit", protocol.Send{Kind: protocol.KindChat, Body: strings.Repeat("é", space.MaxBody/2)}, nil},
		{"body control character", protocol.Send{Kind: protocol.KindChat, Body: "a\x00b"}, space.ErrInvalid},
		{"body escape", protocol.Send{Kind: protocol.KindChat, Body: "a\x1b[31m"}, space.ErrInvalid},
		{"body invalid UTF-8", protocol.Send{Kind: protocol.KindChat, Body: "a\xffb"}, space.ErrInvalid},
		{"unknown kind", protocol.Send{Kind: "poll", Body: "x"}, space.ErrInvalid},
		{"no kind", protocol.Send{Body: "x"}, space.ErrInvalid},
		{"post", protocol.Send{Kind: protocol.KindPost, Title: "T", Body: "b"}, nil},
		{"post no title", protocol.Send{Kind: protocol.KindPost, Body: "b"}, space.ErrInvalid},
		{"post no body", protocol.Send{Kind: protocol.KindPost, Title: "T"}, space.ErrInvalid},
		{"title two lines", protocol.Send{Kind: protocol.KindPost, Title: "a\nb", Body: "b"}, space.ErrInvalid},
		{"title too long", protocol.Send{Kind: protocol.KindPost, Title: strings.Repeat("t", space.MaxTitle+1), Body: "b"}, space.ErrInvalid},
		{"chat title two lines", protocol.Send{Kind: protocol.KindChat, Title: "a\rb", Body: "b"}, space.ErrInvalid},
		{"task", task(func(*protocol.Task) {}), nil},
		{"task done, due, assignee", task(func(tk *protocol.Task) {
			tk.Status, tk.Due, tk.Assignee = protocol.TaskDone, "2026-03-02T10:00:00Z", "bob"
		}), nil},
		{"task blank body", protocol.Send{Kind: protocol.KindTask, Title: "Do", Body: "  ", Task: &protocol.Task{Status: protocol.TaskOpen}}, nil},
		{"task no task", protocol.Send{Kind: protocol.KindTask, Title: "Do"}, space.ErrInvalid},
		{"task no title", protocol.Send{Kind: protocol.KindTask, Task: &protocol.Task{Status: protocol.TaskOpen}}, space.ErrInvalid},
		{"task bad status", task(func(tk *protocol.Task) { tk.Status = "wip" }), space.ErrInvalid},
		{"task no status", task(func(tk *protocol.Task) { tk.Status = "" }), space.ErrInvalid},
		{"task bad due", task(func(tk *protocol.Task) { tk.Due = "tomorrow" }), space.ErrInvalid},
		{"task assignee not a member", task(func(tk *protocol.Task) { tk.Assignee = "carol" }), space.ErrInvalid},
		{"task assignee too long", task(func(tk *protocol.Task) { tk.Assignee = strings.Repeat("p", space.MaxPrincipal+1) }), space.ErrInvalid},
		{"task on chat", protocol.Send{Kind: protocol.KindChat, Body: "x", Task: &protocol.Task{Status: protocol.TaskOpen}}, space.ErrInvalid},
		{"thread not an id", protocol.Send{Kind: protocol.KindChat, Body: "x", Thread: "a b"}, space.ErrInvalid},
		{"attachment", att(func(a *protocol.Attachment) {
			a.Thumbnail, a.MIME, a.Size = "http://files.example.com:8080/t.png", "image/png", 10
		}), nil},
		{"attachments too many", tooMany, space.ErrInvalid},
		{"attachment no name", att(func(a *protocol.Attachment) { a.Name = "" }), space.ErrInvalid},
		{"attachment name too long", att(func(a *protocol.Attachment) { a.Name = strings.Repeat("n", space.MaxName+1) }), space.ErrInvalid},
		{"attachment no URL", att(func(a *protocol.Attachment) { a.URL = "" }), space.ErrInvalid},
		{"attachment javascript URL", att(func(a *protocol.Attachment) { a.URL = "javascript:alert(1)" }), space.ErrInvalid},
		{"attachment relative URL", att(func(a *protocol.Attachment) { a.URL = "/a.png" }), space.ErrInvalid},
		{"attachment scheme-relative URL", att(func(a *protocol.Attachment) { a.URL = "//evil.example/a.png" }), space.ErrInvalid},
		{"attachment user info", att(func(a *protocol.Attachment) { a.URL = "https://u:p@files.example.com/a" }), space.ErrInvalid},
		{"attachment backslash", att(func(a *protocol.Attachment) { a.URL = `https://files.example.com\@evil/a` }), space.ErrInvalid},
		{"attachment tab", att(func(a *protocol.Attachment) { a.URL = "https://files.exa\tmple.com/a" }), space.ErrInvalid},
		{"attachment bad port", att(func(a *protocol.Attachment) { a.URL = "https://files.example.com:0/a" }), space.ErrInvalid},
		{"attachment data thumbnail", att(func(a *protocol.Attachment) { a.Thumbnail = "data:image/png;base64,AAAA" }), space.ErrInvalid},
		{"attachment negative size", att(func(a *protocol.Attachment) { a.Size = -1 }), space.ErrInvalid},
		{"attachment mime control", att(func(a *protocol.Attachment) { a.MIME = "image/png\n" }), space.ErrInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.Send(ctx(t), alice, sp.ID, tc.m, space.SendOptions{})
			wantErr(t, "Send", err, tc.want)
		})
	}
}

func TestArgumentValidation(t *testing.T) {
	rdb, _ := redistest.Backends()[0].New(t)
	e := newEnv(t, rdb, nil)
	c := ctx(t)
	sp := e.mustCreate(t, "Team", "bob")
	msg := e.mustSend(t, alice, sp.ID, chat("x"))
	long := strings.Repeat("p", space.MaxPrincipal+1)
	callers := map[string]space.Caller{
		"no host":          {Principal: "alice"},
		"host with path":   {Host: host + "/x", Principal: "alice"},
		"host with braces": {Host: "https://{a}.example.com", Principal: "alice"},
		"host too long":    {Host: "https://" + strings.Repeat("a", 300) + ".example.com", Principal: "alice"},
		"no principal":     {Host: host},
		"long principal":   {Host: host, Principal: long},
		"space principal":  {Host: host, Principal: "space:" + sp.ID},
	}
	for name, bad := range callers {
		_, err := e.svc.Create(c, bad, "T", "", nil)
		wantErr(t, "Create by "+name, err, space.ErrInvalid)
		_, err = e.svc.Send(c, bad, sp.ID, chat("x"), space.SendOptions{})
		wantErr(t, "Send by "+name, err, space.ErrInvalid)
		_, err = e.svc.List(c, bad)
		wantErr(t, "List by "+name, err, space.ErrInvalid)
	}
	// A caller's title is cleaned, not refused.
	sent, err := e.svc.Send(c, space.Caller{Host: host, Principal: "alice", Title: "A\nB\xff" + strings.Repeat("é", space.MaxTitle)}, sp.ID, chat("x"), space.SendOptions{})
	wantErr(t, "Send with an unruly title", err, nil)
	if want := "A B " + strings.Repeat("é", (space.MaxTitle-4)/2); sent.Sender.Title != want {
		t.Fatalf("sender title %q, want %q", sent.Sender.Title, want)
	}
	checks := []struct {
		name string
		err  error
		want error
	}{}
	add := func(name string, err, want error) {
		checks = append(checks, struct {
			name      string
			err, want error
		}{name, err, want})
	}
	_, err = e.svc.Create(c, alice, "", "", nil)
	add("Create without title", err, space.ErrInvalid)
	_, err = e.svc.Create(c, alice, "a\nb", "", nil)
	add("Create two-line title", err, space.ErrInvalid)
	_, err = e.svc.Create(c, alice, "T", "direct", []string{"bob"})
	add("Create direct", err, space.ErrInvalid)
	_, err = e.svc.Create(c, alice, "T", "channel", nil)
	add("Create unknown kind", err, space.ErrInvalid)
	for _, p := range []string{"", long, "space:x", "system.Everyone", "system:admin", "a\nb"} {
		_, err = e.svc.Create(c, alice, "T", "", []string{p})
		add("Create with member "+p, err, space.ErrInvalid)
		_, err = e.svc.AddMember(c, alice, sp.ID, p, false)
		add("AddMember "+p, err, space.ErrInvalid)
		_, _, err = e.svc.Direct(c, alice, p)
		add("Direct "+p, err, space.ErrInvalid)
	}
	_, err = e.svc.Rename(c, alice, sp.ID, strings.Repeat("t", space.MaxTitle+1))
	add("Rename too long", err, space.ErrInvalid)
	_, err = e.svc.Rename(c, alice, sp.ID, " ")
	add("Rename blank", err, space.ErrInvalid)
	for _, emoji := range []string{"", strings.Repeat("x", space.MaxEmoji+1), "a b", "a\x00", "\xff", "\u00a0"} {
		_, err = e.svc.React(c, alice, msg.ID, emoji, false)
		add("React "+emoji, err, space.ErrInvalid)
	}
	_, err = e.svc.React(c, alice, msg.ID, strings.Repeat("x", space.MaxEmoji), false)
	add("React at the limit", err, nil)
	_, _, err = e.svc.Messages(c, alice, sp.ID, "", 201, "")
	add("Messages limit 201", err, space.ErrInvalid)
	_, _, err = e.svc.Messages(c, alice, sp.ID, "", -1, "")
	add("Messages limit -1", err, space.ErrInvalid)
	_, _, err = e.svc.Messages(c, alice, sp.ID, "01NOSUCHMESSAGE0000000000A", 0, "")
	add("Messages before unknown", err, space.ErrNotFound)
	add("Edit too long", e.svc.Edit(c, alice, msg.ID, strings.Repeat("x", space.MaxBody+1)), space.ErrInvalid)
	add("Edit control", e.svc.Edit(c, alice, msg.ID, "\x07"), space.ErrInvalid)
	add("Read not an id", e.svc.Read(c, alice, sp.ID, "a b"), space.ErrNotFound)
	for _, ch := range checks {
		wantErr(t, ch.name, ch.err, ch.want)
	}
}

func TestMaxEmojis(t *testing.T) {
	rdb, _ := redistest.Backends()[0].New(t)
	e := newEnv(t, rdb, func(c *space.Config) { c.MaxEmojis = 2 })
	sp := e.mustCreate(t, "Team", "bob")
	msg := e.mustSend(t, alice, sp.ID, chat("x"))
	for _, emoji := range []string{"a", "b"} {
		_, err := e.svc.React(ctx(t), alice, msg.ID, emoji, false)
		wantErr(t, "React "+emoji, err, nil)
	}
	_, err := e.svc.React(ctx(t), bob, msg.ID, "c", false)
	wantErr(t, "a third emoji", err, space.ErrInvalid)
	_, err = e.svc.React(ctx(t), bob, msg.ID, "a", false)
	wantErr(t, "an existing emoji", err, nil)
}

func TestConfig(t *testing.T) {
	rdb, _ := redistest.Backends()[0].New(t)
	prefix := func(h string) string { return "{x::" + h + "}:" }
	for name, tc := range map[string]struct {
		cfg   space.Config
		field string
	}{
		"no prefix":       {space.Config{}, "Prefix"},
		"guest TTL":       {space.Config{Prefix: prefix, GuestTTL: 25 * time.Hour}, "GuestTTL"},
		"members":         {space.Config{Prefix: prefix, MaxMembers: 1}, "MaxMembers"},
		"message TTL":     {space.Config{Prefix: prefix, MessageTTL: time.Millisecond}, "MessageTTL"},
		"negative typing": {space.Config{Prefix: prefix, TypingInterval: -time.Second}, "TypingInterval"},
		"small max size":  {space.Config{Prefix: prefix, MaxMessageSize: 10}, "MaxMessageSize"},
		"negative emojis": {space.Config{Prefix: prefix, MaxEmojis: -1}, "MaxEmojis"},
		"negative burst":  {space.Config{Prefix: prefix, SendBurst: -1}, "SendBurst"},
		"negative spaces": {space.Config{Prefix: prefix, MaxSpacesPerUser: -1}, "MaxSpacesPerUser"},
	} {
		_, err := space.New(rdb, nopPublisher{}, nopHistory{}, tc.cfg)
		if err == nil || !strings.Contains(err.Error(), "Config."+tc.field) {
			t.Errorf("%s: New = %v, want an error naming %s", name, err, tc.field)
		}
	}
	if _, err := space.New(rdb, nopPublisher{}, nopHistory{}, space.Config{Prefix: prefix}); err != nil {
		t.Fatalf("New with defaults: %v", err)
	}
	if _, err := space.New(nil, nopPublisher{}, nopHistory{}, space.Config{Prefix: prefix}); err == nil {
		t.Fatal("New without a client succeeded")
	}
}
