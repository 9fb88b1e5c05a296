package pubsub_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/pubsub"
)

// TestSubscriberRecoversFromRefusedSubscribe: Redis refuses SUBSCRIBE with
// an error reply (an ACL without the channel); go-redis keeps the healthy
// connection and would never subscribe again. Once the ACL allows the
// channel, the subscriber must become ready and deliver.
func TestSubscriberRecoversFromRefusedSubscribe(t *testing.T) {
	t.Parallel()
	admin, srv := realRedis(t)
	channel := keyPrefix(t) + ":chan"
	control := keyPrefix(t) + ":control"
	if _, err := srv.Do("ACL", "SETUSER", "sub", "on", ">secret", "~*", "+@all", "resetchannels", "&"+control); err != nil {
		t.Fatalf("ACL SETUSER: %v", err)
	}
	rdb := redis.NewClient(&redis.Options{
		Addr: srv.Addr(), Username: "sub", Password: "secret",
		MaxRetries: 1, MinRetryBackoff: time.Millisecond, MaxRetryBackoff: 5 * time.Millisecond,
	})
	t.Cleanup(func() { _ = rdb.Close() })
	sink := &recordingSink{}
	s := newSubscriber(t, rdb, newHistory(t, rdb, history.Config{Key: keyPrefix(t)}), sink,
		pubsub.SubscriberConfig{Channel: channel, ControlChannel: control,
			BackoffMin: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond})
	run(t, s)
	poll.Until(t, "Redis to refuse the SUBSCRIBE", func() bool {
		entries, err := admin.Do(t.Context(), "ACL", "LOG").Slice()
		return err == nil && len(entries) > 0
	})
	if s.Ready() {
		t.Fatal("ready although the data channel was refused")
	}
	if _, err := srv.Do("ACL", "SETUSER", "sub", "&"+channel); err != nil {
		t.Fatalf("ACL SETUSER: %v", err)
	}
	poll.Until(t, "subscription once allowed", s.Ready)
	publish(t, admin, channel, bare("allowed", channel))
	poll.Until(t, "delivery", func() bool { return len(sink.deliveries()) == 1 })
}
