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
