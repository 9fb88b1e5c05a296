package handler_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/notifyd/notifyd/handler"
	"github.com/notifyd/notifyd/message"
)

func ExampleRegistry_Register() {
	reg := handler.NewRegistry(handler.Config{})
	// A handler that sends comments to the owner named in the message's extra
	// "owner" key, and to the reviewers' group.
	comments := handler.HandlerFunc(func(_ context.Context, m *message.Message) ([]string, error) {
		var owner string
		if raw, ok := m.Extra["owner"]; ok {
			if err := json.Unmarshal(raw, &owner); err != nil {
				return nil, &message.FieldError{Field: "owner", Reason: "must be a string"}
			}
		}
		return []string{"groups:reviewers", owner}, nil // Resolve drops an empty owner
	})
	if err := reg.Register("content.comment", comments); err != nil {
		fmt.Println(err)
		return
	}
	if err := reg.Register(handler.LoginCategory, handler.Login{Admins: []string{"users:boss"}}); err != nil {
		fmt.Println(err)
		return
	}

	m, err := message.Decode([]byte(`{"category": "content.comment", "owner": "users:jdoe"}`), 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := reg.Resolve(context.Background(), m); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(reg.Categories())
	fmt.Println(m.Principals())
	// Output:
	// [content.comment user.login]
	// [groups:reviewers users:jdoe]
}
