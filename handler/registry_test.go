package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"

	"github.com/notifyd/notifyd/message"
)

func newMessage(category string, target ...string) *message.Message {
	m := &message.Message{
		Host:     "https://example.com",
		Category: category,
		Source:   &message.Source{ID: "users:sender", Title: "Sender"},
	}
	if target != nil {
		m.Target = &message.Target{Principals: target}
	}
	return m
}

func fixed(principals ...string) HandlerFunc {
	return func(context.Context, *message.Message) ([]string, error) { return principals, nil }
}

func TestRegister(t *testing.T) {
	t.Parallel()
	r := NewRegistry(Config{})
	if err := r.Register("b", fixed("x")); err != nil {
		t.Fatalf("Register: %v", err)
	}
	if err := r.Register("a", Login{}); err != nil {
		t.Fatalf("Register: %v", err)
	}
	tests := []struct {
		name     string
		category string
		h        Handler
		want     error
	}{
		{"duplicate", "b", fixed("y"), ErrDuplicate},
		{"empty category", "", fixed("y"), ErrInvalid},
		{"nil handler", "c", nil, ErrInvalid},
		{"nil HandlerFunc", "c", HandlerFunc(nil), ErrInvalid},
	}
	for _, tt := range tests {
		if err := r.Register(tt.category, tt.h); !errors.Is(err, tt.want) {
			t.Errorf("%s: Register = %v, want %v", tt.name, err, tt.want)
		}
	}
	if got := r.Categories(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("Categories = %v, want [a b]", got)
	}
	h, ok := r.Lookup("b")
	if !ok {
		t.Fatal("Lookup(b) not found")
	}
	if got, _ := h.Target(context.Background(), newMessage("b")); !slices.Equal(got, []string{"x"}) {
		t.Errorf("the first registration was replaced: %v", got)
	}
	if _, ok := r.Lookup("c"); ok {
		t.Error("Lookup(c) found a handler that failed to register")
	}
	if got := NewRegistry(Config{}).Categories(); got == nil || len(got) != 0 {
		t.Errorf("empty registry Categories = %#v, want empty non-nil", got)
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	errBoom := errors.New("boom")
	r := NewRegistry(Config{})
	for c, h := range map[string]Handler{
		"fixed":  fixed("role:a", "", "role:b", "role:a"),
		"empty":  fixed(),
		"blanks": fixed("", ""),
		"fails":  HandlerFunc(func(context.Context, *message.Message) ([]string, error) { return []string{"x"}, errBoom }),
		"panics": HandlerFunc(func(context.Context, *message.Message) ([]string, error) { panic("bad handler") }),
		"sender": HandlerFunc(func(_ context.Context, m *message.Message) ([]string, error) {
			return []string{m.SourceID()}, nil
		}),
		LoginCategory: Login{Admins: []string{"users:boss"}},
	} {
		if err := r.Register(c, h); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name      string
		m         *message.Message
		want      []string // nil: no target
		wantErr   error
		unhandled bool
	}{
		{"existing target kept", newMessage("fixed", "users:jdoe"), []string{"users:jdoe"}, nil, false},
		{"existing target kept without handler", newMessage("nope", "users:jdoe", "users:jdoe"), []string{"users:jdoe", "users:jdoe"}, nil, false},
		{"handler applied and deduplicated", newMessage("fixed"), []string{"role:a", "role:b"}, nil, false},
		{"empty existing target replaced", newMessage("fixed", []string{}...), []string{"role:a", "role:b"}, nil, false},
		{"handler reads the message", newMessage("sender"), []string{"users:sender"}, nil, false},
		{"login", newMessage(LoginCategory), []string{message.Admin, "users:boss"}, nil, false},
		{"empty result", newMessage("empty"), nil, nil, false},
		{"only empty strings", newMessage("blanks"), nil, nil, false},
		{"no handler", newMessage("nope"), nil, nil, true},
		{"no handler, empty target", newMessage("nope", []string{}...), nil, nil, true},
		{"no category", newMessage(""), nil, nil, true},
		{"handler error", newMessage("fails"), nil, errBoom, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Not parallel: the Unhandled counter is shared.
			before := r.Unhandled()
			err := r.Resolve(context.Background(), tt.m)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Resolve = %v, want %v", err, tt.wantErr)
			}
			if tt.want == nil && tt.m.Target != nil && tt.wantErr == nil {
				t.Errorf("Target = %#v, want nil", tt.m.Target)
			}
			if got := tt.m.Principals(); !slices.Equal(got, tt.want) {
				t.Errorf("principals = %v, want %v", got, tt.want)
			}
			if got := r.Unhandled() - before; got != map[bool]uint64{true: 1}[tt.unhandled] {
				t.Errorf("Unhandled grew by %d", got)
			}
		})
	}

	m := newMessage("panics")
	if err := r.Resolve(context.Background(), m); err == nil || m.Target != nil {
		t.Errorf("panicking handler: Resolve = %v, target %v; want an error and no target", err, m.Target)
	}
}

func TestResolveCopiesHandlerResult(t *testing.T) {
	t.Parallel()
	shared := []string{"role:a", "role:b"}
	r := NewRegistry(Config{})
	if err := r.Register("c", fixed(shared...)); err != nil {
		t.Fatal(err)
	}
	m := newMessage("c")
	if err := r.Resolve(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	m.Target.Principals[0] = "changed"
	if shared[0] != "role:a" {
		t.Error("the message's target aliases the handler's slice")
	}
}

func TestResolveErrorNamesCategory(t *testing.T) {
	t.Parallel()
	r := NewRegistry(Config{})
	if err := r.Register("content.review", Rule{Category: "content.review", Principals: []string{"$recipient"}}); err != nil {
		t.Fatal(err)
	}
	m := newMessage("content.review")
	m.Extra = map[string]json.RawMessage{"recipient": []byte(`42`)}
	err := r.Resolve(context.Background(), m)
	var fe *message.FieldError
	if !errors.As(err, &fe) || fe.Field != "recipient" || !errors.Is(err, message.ErrInvalid) {
		t.Fatalf("Resolve = %v, want a message.FieldError for recipient", err)
	}
	if want := fmt.Sprintf("handler: category %q: %v", "content.review", fe); err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if m.Target != nil {
		t.Errorf("target set on error: %v", m.Target)
	}
}

func TestResolveLogsUnhandled(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r := NewRegistry(Config{Logger: log})
	m := newMessage("unknown.category")
	if err := r.Resolve(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("want one JSON log record, got %q: %v", buf.String(), err)
	}
	if rec["level"] != "DEBUG" || rec["category"] != "unknown.category" || rec["host"] != "https://example.com" {
		t.Errorf("log record = %v", rec)
	}
	buf.Reset()
	if err := r.Resolve(context.Background(), newMessage("x", "p")); err != nil || buf.Len() != 0 {
		t.Errorf("a targeted message was logged: %q, %v", buf.String(), err)
	}
}

func TestResolveConcurrent(t *testing.T) {
	t.Parallel()
	r := NewRegistry(Config{})
	if err := r.Register(LoginCategory, Login{Admins: []string{"users:boss"}}); err != nil {
		t.Fatal(err)
	}
	const goroutines, perG = 16, 200
	var wg sync.WaitGroup
	errs := make(chan error, goroutines+1)
	wg.Add(1)
	go func() { // registration and listing race with resolution
		defer wg.Done()
		for i := range perG {
			if err := r.Register(fmt.Sprintf("late.%d", i), fixed("role:late")); err != nil {
				errs <- err
				return
			}
			_ = r.Categories()
		}
	}()
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perG {
				login := newMessage(LoginCategory)
				unknown := newMessage(fmt.Sprintf("unknown.%d.%d", g, i))
				if err := r.Resolve(context.Background(), login); err != nil {
					errs <- err
					return
				}
				if err := r.Resolve(context.Background(), unknown); err != nil {
					errs <- err
					return
				}
				if !slices.Equal(login.Principals(), []string{message.Admin, "users:boss"}) || unknown.Target != nil {
					errs <- fmt.Errorf("wrong targets %v, %v", login.Principals(), unknown.Target)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := r.Unhandled(); got != goroutines*perG {
		t.Errorf("Unhandled = %d, want %d", got, goroutines*perG)
	}
	if got := len(r.Categories()); got != perG+1 {
		t.Errorf("%d categories, want %d", got, perG+1)
	}
}

func TestDedupe(t *testing.T) {
	t.Parallel()
	long := make([]string, 0, 40)
	for i := range 40 {
		long = append(long, fmt.Sprint(i%20))
	}
	wantLong := make([]string, 0, 20)
	for i := range 20 {
		wantLong = append(wantLong, fmt.Sprint(i))
	}
	tests := []struct {
		in, want []string
	}{
		{nil, []string{}},
		{[]string{""}, []string{}},
		{[]string{"a", "b", "a", "", "c", "b"}, []string{"a", "b", "c"}},
		{long, wantLong},
	}
	for _, tt := range tests {
		if got := dedupe(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("dedupe(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
