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
