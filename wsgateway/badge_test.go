package wsgateway

import (
	"testing"
	"time"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/poll"
)

// TestBadgeThrottleHoldsBack: within BadgeInterval of the last inbox frame,
// messages go out at once without an inbox frame each; a change of the
// counts (InboxChanged) is sent at once and carries the state.
func TestBadgeThrottleHoldsBack(t *testing.T) {
	t.Parallel()
	e := newInboxEnv(t, Config{BadgeInterval: time.Hour}, history.Config{})
	bob := e.connect(t, siteA, "users:bob", "users:bob")
	expectInbox(t, bob, 0, 0) // read at connect: the last inbox frame
	m1 := e.msg("users:zed", "one", "test", "users:bob")
	m2 := e.msg("users:zed", "two", "test", "users:bob")
	e.publish(t, m1)
	e.publish(t, m2)
	expectFrame(t, bob, m1.PushJSON())
	expectFrame(t, bob, m2.PushJSON()) // no inbox frame in between
	e.g.InboxChanged(siteA, "users:bob", history.Counts{Unread: 2, Unseen: 1})
	expectInbox(t, bob, 2, 1)
}

// TestBadgeThrottleTrails: a badge held back is sent when the interval has
// passed, with the counts of every message since the last one. The
// gateway's clock is frozen, so every message falls within the interval of
// the inbox frame sent at connect: only the timer can send the badge.
func TestBadgeThrottleTrails(t *testing.T) {
	t.Parallel()
	frozen := time.Now()
	e := newInboxEnv(t, Config{BadgeInterval: 20 * time.Millisecond, Now: func() time.Time { return frozen }}, history.Config{})
	bob := e.connect(t, siteA, "users:bob", "users:bob")
	expectInbox(t, bob, 0, 0)
	m1 := e.msg("users:zed", "one", "test", "users:bob")
	e.publish(t, m1)
	expectFrame(t, bob, m1.PushJSON())
	expectInbox(t, bob, 1, 1)
}

// TestHeldBackBadgeHoldsNoWriter: while a badge is held back, the
// connection holds no writer goroutine (the timer kicks one when it fires;
// TestBadgeThrottleTrails shows that it does). With an interval of an
// hour, a writer waiting for the timer would stay for an hour.
func TestHeldBackBadgeHoldsNoWriter(t *testing.T) {
	t.Parallel()
	frozen := time.Now()
	e := newInboxEnv(t, Config{BadgeInterval: time.Hour, Now: func() time.Time { return frozen }}, history.Config{})
	bob := e.connect(t, siteA, "users:bob", "users:bob")
	expectInbox(t, bob, 0, 0)
	m1 := e.msg("users:zed", "one", "test", "users:bob")
	e.publish(t, m1)
	expectFrame(t, bob, m1.PushJSON())
	poll.Until(t, "no writer while the badge is held back", func() bool { return e.g.Stats().Writers == 0 })
}

// TestStaleBadgeFireIgnored: a timer firing that a batch overtook (it
// wrote the badge, or wrote it and armed the timer again for later) sends
// nothing; the firing of the armed timer sends the badge.
func TestStaleBadgeFireIgnored(t *testing.T) {
	t.Parallel()
	env := &connEnv{now: time.Now, badgeInterval: time.Hour}
	for name, tc := range map[string]struct {
		armed  bool
		fireAt time.Time
		sent   bool
	}{
		"written by a batch":          {armed: false, sent: false},
		"armed again for later":       {armed: true, fireAt: time.Now().Add(time.Hour), sent: false},
		"the armed timer, on its due": {armed: true, fireAt: time.Now().Add(-time.Millisecond), sent: true},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := &conn{env: env, send: newQueue(4), batching: true} // frames stay in c.batch
			c.ib.dirty, c.ib.armed, c.ib.fireAt = true, tc.armed, tc.fireAt
			c.badgeFire(t.Context())
			if sent := c.batch != nil && len(*c.batch) > 0; sent != tc.sent {
				t.Fatalf("badge frame written = %v, want %v", sent, tc.sent)
			}
			if tc.sent && (c.ib.armed || c.ib.dirty) {
				t.Errorf("after the badge: armed %v, dirty %v; want neither", c.ib.armed, c.ib.dirty)
			}
			if !tc.sent && (c.ib.armed != tc.armed || !c.ib.dirty) {
				t.Errorf("after a stale firing: armed %v, dirty %v; want them as they were (%v, true)",
					c.ib.armed, c.ib.dirty, tc.armed)
			}
		})
	}
}
