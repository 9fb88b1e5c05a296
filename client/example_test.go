package client_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/client"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/site"
	"github.com/notifyd/notifyd/wsgateway"
)

// A service listens to notifyd as users:bob and prints each notification.
// The in-process gateway stands in for a running notifyd.
func Example() {
	const origin = "https://app.example.com"
	secret := []byte("example-secret-0123456789abcdef0123")
	gw, srv := startExampleGateway(secret, origin)
	defer srv.Close()

	token, _ := auth.Mint(secret, "users:bob", "Bob", []string{"role:reviewer"}, time.Now(), time.Hour)
	var connected sync.Once
	ready := make(chan struct{})
	got := make(chan *message.Message, 1)
	c, err := client.New(client.Config{
		URL:       "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws/chat",
		Origin:    origin,
		Token:     func(context.Context) (string, error) { return token, nil },
		OnConnect: func(string) { connected.Do(func() { close(ready) }) },
		OnMessage: func(m *message.Message, _ []byte) { got <- m },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	<-ready

	// What a backend publishes (through pubsub.Publisher or the HTTP API)
	// reaches the gateway; here it is handed to it directly.
	m := &message.Message{
		Host: origin, Action: "notify", Category: "content.review", Title: "Review requested",
		Source: &message.Source{ID: "users:alice"}, Target: &message.Target{Principals: []string{"role:reviewer"}},
		ID: "01KAKF8G0V7P3HZ2W9QX4T1B6C",
	}
	gw.Deliver(m, m.PushJSON())

	fmt.Println((<-got).Title)
	cancel()
	<-done
	shutdown, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	_ = gw.Shutdown(shutdown)
	// Output: Review requested
}

func startExampleGateway(secret []byte, origin string) (*wsgateway.Gateway, *httptest.Server) {
	verifier, err := auth.NewVerifier(auth.Config{Secret: secret})
	if err != nil {
		panic(err)
	}
	sites, err := site.NewPolicy([]string{origin}, "")
	if err != nil {
		panic(err)
	}
	gw, err := wsgateway.New(wsgateway.Config{Auth: verifier, Sites: sites, ShutdownSpread: -1})
	if err != nil {
		panic(err)
	}
	return gw, httptest.NewServer(gw)
}
