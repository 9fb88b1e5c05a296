package pubsub_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/notifyd/notifyd/handler"
	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/pubsub"
)

// reviewRules returns a registry whose rule for category "c" reads the
// message's extra key "recipient".
func reviewRules(t testing.TB) *handler.Registry {
	t.Helper()
	rules, err := handler.ParseRules([]byte(`{"rules": [{"category":"c","principals":["role:reviewer","$recipient"]}]}`))
	if err != nil {
		t.Fatalf("ParseRules: %v", err)
	}
	reg := handler.NewRegistry(handler.Config{})
	if err := reg.RegisterRules(rules); err != nil {
		t.Fatalf("RegisterRules: %v", err)
	}
	return reg
}

// targetedWithRecipient is a message of category "c" published with a
// target, carrying the extra key the rule reads.
func targetedWithRecipient(channel string) *message.Message {
	m := newMessage("targeted")
	m.Channel, m.Category = channel, "c"
	m.Target = &message.Target{Principals: []string{"users:carol"}}
	m.Extra = map[string]json.RawMessage{"recipient": json.RawMessage(`"users:bob"`), "kept": json.RawMessage(`1`)}
	return m
}

// checkStripped checks that push, what recipients get, lacks the rule's key
// but keeps the others, and that the target was not changed.
func checkStripped(t testing.TB, m *message.Message, push []byte) {
	t.Helper()
	if bytes.Contains(push, []byte("recipient")) || !bytes.Contains(push, []byte(`"kept"`)) {
		t.Errorf("push form %s: want no recipient key, the kept key", push)
	}
	if got := m.Principals(); !slices.Equal(got, []string{"users:carol"}) {
		t.Errorf("target principals = %v, want the given [users:carol]", got)
	}
	if !slices.Contains(m.TargetKeys(), "recipient") {
		t.Errorf("target keys = %v, want recipient recorded", m.TargetKeys())
	}
}

func TestPublisherRecordsTargetKeysOfTargetedMessages(t *testing.T) {
	t.Parallel()
	rdb, _ := realRedis(t)
	channel := keyPrefix(t) + ":chan"
	pub, err := pubsub.NewPublisher(rdb, newHistory(t, rdb, history.Config{}), pubsub.PublisherConfig{
		Channel: channel, Resolver: reviewRules(t),
	})
	if err != nil {
		t.Fatalf("NewPublisher: %v", err)
	}
	raw := subscribeRaw(t, rdb, channel)
	m := targetedWithRecipient("")
	if err := pub.Publish(context.Background(), m); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	got, err := raw.ReceiveMessage(context.Background())
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	published, err := message.Decode([]byte(got.Payload), 0)
	if err != nil {
		t.Fatalf("decode the published form: %v", err)
	}
	checkStripped(t, published, published.PushJSON())
}

func TestSubscriberRecordsTargetKeysOfTargetedMessages(t *testing.T) {
	t.Parallel()
	rdb, _ := realRedis(t)
	sink := &recordingSink{}
	s := newSubscriber(t, rdb, newHistory(t, rdb, history.Config{}), sink, pubsub.SubscriberConfig{Resolver: reviewRules(t)})
	run(t, s)
	poll.Until(t, "subscription", s.Ready)
	channel := keyPrefix(t) + ":chan"
	// A bare PUBLISH of a message that already has a target.
	publish(t, rdb, channel, string(targetedWithRecipient(channel).StoredJSON()))
	poll.Until(t, "delivery", func() bool { return len(sink.deliveries()) == 1 })
	d := sink.deliveries()[0]
	checkStripped(t, d.m, d.push)
}
