package redistest

import (
	"reflect"
	"strings"
	"testing"
)

func TestCall(t *testing.T) {
	t.Parallel()
	s := Start(t)
	for _, cmd := range [][]string{
		{"RPUSH", "list", "a", "", "c"},
		{"SET", "bulk", "line1\r\nline2"},
	} {
		if _, err := s.Call(cmd...); err != nil {
			t.Fatalf("%v: %v", cmd, err)
		}
	}
	tests := []struct {
		name    string
		cmd     []string
		want    any
		wantErr string
	}{
		{"simple string", []string{"PING"}, "PONG", ""},
		{"integer", []string{"LLEN", "list"}, int64(3), ""},
		{"bulk with CRLF", []string{"GET", "bulk"}, "line1\r\nline2", ""},
		{"null bulk", []string{"GET", "missing"}, nil, ""},
		{"array", []string{"LRANGE", "list", "0", "-1"}, []any{"a", "", "c"}, ""},
		{"empty array", []string{"LRANGE", "missing", "0", "-1"}, []any{}, ""},
		{"error", []string{"LLEN", "bulk"}, nil, "WRONGTYPE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Call(tt.cmd...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Call(%v) error = %v, want %s", tt.cmd, err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Call(%v) = %#v, %v; want %#v", tt.cmd, got, err, tt.want)
			}
		})
	}
}

func TestInfo(t *testing.T) {
	t.Parallel()
	s := Start(t)
	info, err := Info(s.Addr(), "replication")
	if err != nil {
		t.Fatalf("Info: %v", err)
	}
	if info["role"] != "master" {
		t.Fatalf("role = %q, want master (all: %v)", info["role"], info)
	}
}
