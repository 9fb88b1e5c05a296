package history_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/message"
)

func TestIsPermanent(t *testing.T) {
	t.Parallel()
	redisErr := func(s string) error { return fmt.Errorf("%w: x: %w", history.ErrUnavailable, redisError(s)) }
	tests := []struct {
		err  error
		want bool
	}{
		{redisErr("WRONGTYPE Operation against a key holding the wrong kind of value script: 1, on @user_script:1."), true},
		{redisErr("ERR user_script:1: Script attempted to access nonexistent global variable 'x'"), true},
		{redisErr("NOREPLICAS Not enough good replicas to write. script: 1, on @user_script:1."), false},
		{redisErr("READONLY You can't write against a read only replica."), false},
		{redisErr("OOM command not allowed when used memory > 'maxmemory'."), false},
		{redisErr("ERR max number of clients reached"), false},
		{errors.New("dial tcp: connection refused"), false},
		{fmt.Errorf("x: %w", &message.FieldError{Field: "id", Reason: "is required"}), true},
	}
	for _, tt := range tests {
		if got := history.IsPermanent(tt.err); got != tt.want {
			t.Errorf("IsPermanent(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestEntryError(t *testing.T) {
	t.Parallel()
	whole, one := errors.New("whole batch"), errors.New("one entry")
	be := &history.BatchError{Errs: []error{nil, one}}
	tests := []struct {
		err  error
		i    int
		want error
	}{
		{nil, 0, nil},
		{whole, 1, whole},
		{fmt.Errorf("wrapped: %w", be), 0, nil},
		{be, 1, one},
	}
	for _, tt := range tests {
		if got := history.EntryError(tt.err, tt.i); got != tt.want {
			t.Errorf("EntryError(%v, %d) = %v, want %v", tt.err, tt.i, got, tt.want)
		}
	}
}

// redisError is an error reply as go-redis returns it.
type redisError string

func (e redisError) Error() string { return string(e) }
func (redisError) RedisError()     {}

var _ redis.Error = redisError("")
