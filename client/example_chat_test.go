package client_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/notifyd/notifyd/client"
	"github.com/notifyd/notifyd/protocol"
)

// Bob subscribes to a space with a callback, as Avaya's add_chat_listener
// does; Alice's message arrives in it with her name, from her token. The
// in-process server is notifyd's real stack on a redis-server.
func ExampleClient_Subscribe() {
	notifyd := startExample()
	defer notifyd.close()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()

	alice, _ := client.New(client.Config{URL: notifyd.wsURL(), Origin: stackSite, Token: notifyd.tokens("users:alice", "Alice")})
	bob, _ := client.New(client.Config{URL: notifyd.wsURL(), Origin: stackSite, Token: notifyd.tokens("users:bob", "Bob")})
	wg.Go(func() { _ = alice.Run(ctx) })
	wg.Go(func() { _ = bob.Run(ctx) })

	space, err := alice.CreateSpace(ctx, "Team", []string{"users:bob"}) // REST
	if err != nil {
		fmt.Println(err)
		return
	}
	got := make(chan protocol.SpaceMessage, 1)
	if err := bob.Subscribe(ctx, space.ID, func(m protocol.SpaceMessage) { got <- m }); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := alice.Send(ctx, space.ID, protocol.Send{Kind: protocol.KindChat, Body: "Hello, world!"}); err != nil {
		fmt.Println(err)
		return
	}
	m := <-got
	fmt.Printf("%s said %q in %s\n", m.Sender.Title, m.Body, space.Title)
	// Output: Alice said "Hello, world!" in Team
}

// The badge of a user's inbox follows every change, pushed to each of its
// connections: a new notification, then MarkRead over REST.
func ExampleConfig_onInbox() {
	notifyd := startExample()
	defer notifyd.close()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()

	badge := make(chan client.Counts, 8)
	bob, _ := client.New(client.Config{
		URL: notifyd.wsURL(), Origin: stackSite, Token: notifyd.tokens("users:bob", "Bob"),
		OnInbox: func(n client.Counts) { badge <- n },
	})
	wg.Go(func() { _ = bob.Run(ctx) })

	fmt.Println("unread:", (<-badge).Unread) // at connect
	id := notifyd.notify(notifyd.tb, "users:bob", "Review requested")
	fmt.Println("unread:", (<-badge).Unread)
	if _, err := bob.MarkRead(ctx, id); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("unread:", (<-badge).Unread)
	// Output:
	// unread: 0
	// unread: 1
	// unread: 0
}

// example is the stack of an example.
type example struct {
	*stack
	tb *exampleTB
}

func startExample() example {
	tb := &exampleTB{}
	return example{stack: startStack(tb), tb: tb}
}

func (e example) close() { e.tb.close() }

// tokens is a Config.Token that returns a token of sub.
func (e example) tokens(sub, title string) func(context.Context) (string, error) {
	tok := e.token(e.tb, sub, title)
	return func(context.Context) (string, error) { return tok, nil }
}
