package handler

import (
	"context"
	"slices"
	"testing"

	"github.com/notifyd/notifyd/message"
)

func TestLogin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		admins []string
		want   []string
	}{
		{"no admins", nil, []string{message.Admin}},
		{"admins in order", []string{"users:b", "groups:managers"}, []string{message.Admin, "users:b", "groups:managers"}},
		{"duplicates and empties dropped", []string{"users:b", "", message.Admin, "users:b"}, []string{message.Admin, "users:b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := Login{Admins: tt.admins}
			got, err := l.Target(context.Background(), &message.Message{Category: LoginCategory})
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("Target = %v, %v; want %v", got, err, tt.want)
			}
			got[0] = "changed"
			if len(tt.admins) > 0 && tt.admins[0] == "changed" {
				t.Error("Target returned the Admins slice itself")
			}
		})
	}
}
