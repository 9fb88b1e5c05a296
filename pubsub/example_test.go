package pubsub_test

import (
	"context"
	"fmt"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/pubsub"
)

// A backend sends a notification: the publisher fills in the id, timestamp,
// channel and status, stores the message in the site's history and publishes
// it to every gateway.
func ExamplePublisher() {
	mr, _ := miniredis.Run() // a real deployment uses its Redis address
	defer mr.Close()
	ctx := context.Background()

	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer rdb.Close()
	hist, _ := history.New(rdb, history.Config{})
	pub, _ := pubsub.NewPublisher(rdb, hist, pubsub.PublisherConfig{})
	err := pub.Publish(ctx, &message.Message{
		Host: "https://app.example.com", Action: "notify", Category: "content.review",
		Title: "Review requested", Body: "Please review",
		Source: &message.Source{ID: "users:alice", Title: "Alice"},
		Target: &message.Target{Principals: []string{"users:bob"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	list, _ := hist.List(ctx, "https://app.example.com")
	fmt.Println(len(list), list[0].Title, list[0].Channel, list[0].Status, len(list[0].ID))
	// Output: 1 Review requested chat:main info 26
}

// A backend that may retry (after a timeout or a 503) names each
// notification with an idempotency key: however many times it is sent, on
// however many gateways, it is stored and published once, and every retry
// answers with the first id and timestamp.
func ExamplePublisher_PublishIdempotent() {
	mr, _ := miniredis.Run()
	defer mr.Close()
	ctx := context.Background()

	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer rdb.Close()
	hist, _ := history.New(rdb, history.Config{}) // keys are kept a day
	pub, _ := pubsub.NewPublisher(rdb, hist, pubsub.PublisherConfig{})
	var answers []string
	for range 2 { // the first attempt and a retry
		m := &message.Message{
			Host: "https://app.example.com", Action: "notify", Category: "content.review",
			Title: "Review requested", Body: "Please review",
			Source: &message.Source{ID: "users:alice", Title: "Alice"},
			Target: &message.Target{Principals: []string{"users:bob"}},
		}
		replayed, err := pub.PublishIdempotent(ctx, "review-page-12", m)
		if err != nil {
			fmt.Println(err)
			return
		}
		answers = append(answers, m.ID)
		fmt.Println("replayed:", replayed)
	}
	list, _ := hist.List(ctx, "https://app.example.com")
	fmt.Println(len(list), answers[0] == answers[1])
	// Output:
	// replayed: false
	// replayed: true
	// 1 true
}
