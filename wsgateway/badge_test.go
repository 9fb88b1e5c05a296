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
