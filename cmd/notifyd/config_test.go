package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

const testSecret = "0123456789abcdef0123456789abcdef"

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestParseConfigDefaultsAndPrecedence(t *testing.T) {
	t.Parallel()
	c, err := parseConfig([]string{"-channel", "from:flag"}, env(map[string]string{
		"NOTIFYD_JWT_SECRET":      testSecret,
		"NOTIFYD_CHANNEL":         "from:env",
		"NOTIFYD_ALLOWED_ORIGINS": "https://a.example, https://b.example,",
		"NOTIFYD_WRITE_TIMEOUT":   "3s",
	}), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Channel != "from:flag" {
		t.Errorf("flag must win over env: channel = %q", c.Channel)
	}
	if c.Addr != ":8080" || c.NotificationsKey != "chat:notifications" || c.NotificationsLength != 50 {
		t.Errorf("defaults: %+v", c)
	}
	if len(c.AllowedOrigins) != 2 || c.AllowedOrigins[1] != "https://b.example" {
		t.Errorf("origins = %q", c.AllowedOrigins)
	}
	if c.WriteTimeout != 3*time.Second || c.RedisURL != "" {
		t.Errorf("write timeout %v, redis url %q", c.WriteTimeout, c.RedisURL)
	}
}

func TestParseConfigErrorsNameTheSetting(t *testing.T) {
	t.Parallel()
	cases := []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{}, nil, "NOTIFYD_JWT_SECRET"},
		{map[string]string{"NOTIFYD_JWT_SECRET": testSecret, "NOTIFYD_NOTIFICATIONS_LENGTH": "zero"}, nil, "NOTIFYD_NOTIFICATIONS_LENGTH"},
		{map[string]string{"NOTIFYD_JWT_SECRET": testSecret}, []string{"-notifications-length", "0"}, "-notifications-length"},
		{map[string]string{"NOTIFYD_JWT_SECRET": testSecret, "NOTIFYD_WRITE_TIMEOUT": "soon"}, nil, "NOTIFYD_WRITE_TIMEOUT"},
		{map[string]string{"NOTIFYD_JWT_SECRET": testSecret, "NOTIFYD_LOG_LEVEL": "loud"}, nil, "NOTIFYD_LOG_LEVEL"},
		{map[string]string{"NOTIFYD_JWT_SECRET": testSecret, "NOTIFYD_JWT_PUBLIC_KEY": "/k.pem"}, nil, "only one"},
		{map[string]string{"NOTIFYD_JWT_SECRET": testSecret, "NOTIFYD_NOTIFICATIONS_KEY": "{x}"}, nil, "NOTIFYD_NOTIFICATIONS_KEY"},
	}
	for _, c := range cases {
		_, err := parseConfig(c.args, env(c.env), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("env %v args %v: err = %v, want mention of %s", c.env, c.args, err, c.want)
		}
	}
}

func TestRunRejectsBadConfigWithExit2(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	code := run(t.Context(), nil, env(map[string]string{"NOTIFYD_JWT_SECRET": "short"}), &bytes.Buffer{}, &stderr)
	if code == 0 {
		t.Fatalf("run with a short secret exited 0; stderr: %s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "NOTIFYD_JWT_SECRET") {
		t.Fatalf("stderr does not name the setting: %s", stderr.String())
	}
}

func TestTokenCommand(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"token", "-sub", "users:alice", "-principals", "role:a,role:b"},
		env(map[string]string{"NOTIFYD_JWT_SECRET": testSecret}), &out, &errOut)
	if code != 0 || strings.Count(strings.TrimSpace(out.String()), ".") != 2 {
		t.Fatalf("token: code %d, out %q, err %q", code, out.String(), errOut.String())
	}
	if code := run(t.Context(), []string{"token"}, env(nil), &out, &errOut); code == 0 {
		t.Fatal("token without -sub exited 0")
	}
}

// The command line a newcomer tries: help and version exit 0 and say what
// there is; usage and configuration errors exit 2 whichever check found them.
func TestCommandLine(t *testing.T) {
	t.Parallel()
	secret := map[string]string{"NOTIFYD_JWT_SECRET": testSecret}
	tests := []commandCase{
		{"help", []string{"help"}, nil, 0, "notifyd tail [flags]"},
		{"tail -h", []string{"tail", "-h"}, nil, 0, "-origin"},
		{"-h", []string{"-h"}, nil, 0, "notifyd token [flags]"},
		{"--help", []string{"--help"}, nil, 0, "-redis-url"},
		{"version", []string{"version"}, nil, 0, "notifyd dev"},
		{"--version", []string{"--version"}, nil, 0, "notifyd dev"},
		{"token -h", []string{"token", "-h"}, nil, 0, "-sub"},
		{"listen -h", []string{"listen", "-h"}, nil, 0, "-origin"},
		{"health -h", []string{"health", "-h"}, nil, 0, "-url"},
		{"publish -h", []string{"publish", "-h"}, nil, 0, "-idempotency-key"},
		{"publish without token", []string{"publish", "-title", "x"}, nil, 2, "-token"},
		{"publish without title", []string{"publish", "-token", "t"}, nil, 2, "-title is required"},
		{"token unknown alg", []string{"token", "-sub", "a", "-alg", "XX1"}, secret, 2, "unknown algorithm"},
		{"token key without alg", []string{"token", "-sub", "a", "-key", "k.pem"}, secret, 2, "-key needs -alg"},
		{"unknown flag", []string{"-nope"}, secret, 2, "-nope"},
		{"token without sub", []string{"token"}, secret, 2, "-sub is required"},
		{"token bad flag", []string{"token", "-nope"}, secret, 2, "-nope"},
		{"short secret", nil, map[string]string{"NOTIFYD_JWT_SECRET": "short"}, 2, "NOTIFYD_JWT_SECRET"},
		{"bad rules file", nil, map[string]string{"NOTIFYD_JWT_SECRET": testSecret, "NOTIFYD_RULES": "/nonexistent/rules.json",
			"NOTIFYD_EMBEDDED_REDIS_ADDR": "127.0.0.1:0", "NOTIFYD_ADDR": "127.0.0.1:0"}, 2, "rules"},
		{"health of nothing", []string{"health", "-url", "http://127.0.0.1:1/readyz"}, nil, 1, "health"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t)
		})
	}
}

// commandCase is one command line: run with args and env, it exits with
// code and prints out (on stdout or stderr).
type commandCase struct {
	name string
	args []string
	env  map[string]string
	code int
	out  string
}

func (tt commandCase) run(t *testing.T) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(t.Context(), tt.args, env(tt.env), &out, &errOut)
	if code != tt.code || !strings.Contains(out.String()+errOut.String(), tt.out) {
		t.Fatalf("exit %d (want %d), want %q in the output\nstdout: %s\nstderr: %s", code, tt.code, tt.out, out.String(), errOut.String())
	}
}

func TestHealthCommand(t *testing.T) {
	g := startGateway(t, nil)
	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"health", "-url", g.url("/readyz")}, env(nil), &out, &errOut); code != 0 {
		t.Fatalf("health exited %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), `"ready"`) {
		t.Fatalf("health printed %q", out.String())
	}
}
