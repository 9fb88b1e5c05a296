package client

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/coder/websocket"
	"github.com/notifyd/notifyd/protocol"
)

// dropOnCommand accepts, answers PINGs, and closes with 1011 when a frame
// that is not PING arrives: the connection ends before the command's
// answer. commands receives each such frame.
func dropOnCommand(commands chan<- protocol.Command) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		ws := accept(w, r)
		if ws == nil {
			return
		}
		defer ws.CloseNow()
		ctx := context.Background()
		for {
			_, data, err := ws.Read(ctx)
			if err != nil {
				return
			}
			if string(data) == protocol.Ping {
				if err := ws.Write(ctx, websocket.MessageText, []byte(protocol.Pong)); err != nil {
					return
				}
				continue
			}
			cmd, _ := protocol.ParseCommand(data)
			commands <- cmd
			_ = ws.Close(websocket.StatusInternalError, "scripted")
			return
		}
	}
}

func TestCommandFailsWhenTheConnectionDropsBeforeItsAnswer(t *testing.T) {
	t.Parallel()
	commands := make(chan protocol.Command, 4)
	srv := startScripted(t, dropOnCommand(commands), answer(0))
	connects := make(chan string, 4)
	c, err := New(Config{
		URL: srv.url(), Origin: testSite, Token: func(context.Context) (string, error) { return "scripted", nil },
		OnConnect: func(url string) { connects <- url },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	recv(t, connects)

	_, err = c.Send(context.Background(), "team", protocol.Send{Kind: protocol.KindChat, Body: "hi"})
	if !errors.Is(err, ErrConnectionLost) {
		t.Fatalf("Send: %v, want ErrConnectionLost", err)
	}
	if cmd := recv(t, commands); cmd.Action != protocol.ActionSend || cmd.Space != "team" || cmd.Body != "hi" || cmd.RID == "" {
		t.Fatalf("the server got %+v", cmd)
	}
	recv(t, connects) // the next connection
}

func TestAPIBaseDerivedFromTheWebsocketURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"ws://127.0.0.1:8080/ws/chat":                   "http://127.0.0.1:8080",
		"wss://notify.example.com/ws/chat":              "https://notify.example.com",
		"wss://notify.example.com/ws/chat?host=a.b&x=1": "https://notify.example.com?host=a.b",
	} {
		c, err := New(Config{URL: in, Token: func(context.Context) (string, error) { return "", nil }, Device: "phone-1.a:b_c-d"})
		if err != nil {
			t.Fatal(err)
		}
		if c.cfg.API != want {
			t.Errorf("API of %s = %s, want %s", in, c.cfg.API, want)
		}
	}
}
