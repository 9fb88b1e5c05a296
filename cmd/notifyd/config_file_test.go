package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

var updateREADME = flag.Bool("update-readme", false, "rewrite README.md's configuration table from the code")

// writeConfig writes a configuration file of the given mode and returns
// its path.
func writeConfig(t testing.TB, text string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notifyd.yaml")
	if err := os.WriteFile(path, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // WriteFile's mode passes through the umask
		t.Fatal(err)
	}
	return path
}

// Each layer overrides the one below: flag > environment > file > default.
func TestConfigPrecedence(t *testing.T) {
	t.Parallel()
	file := writeConfig(t, "channel: from:file\nqueue-size: 64\n", 0o600)
	tests := []struct {
		name      string
		args      []string
		env       map[string]string
		want      string
		wantQueue int
		source    string
	}{
		{"default", nil, nil, "chat:main", 256, "default"},
		{"file", []string{"-config", file}, nil, "from:file", 64, "file " + file + " line 1"},
		{"file named by the environment", nil, map[string]string{"NOTIFYD_CONFIG": file}, "from:file", 64, "file " + file + " line 1"},
		{"env over file", []string{"-config", file}, map[string]string{"NOTIFYD_CHANNEL": "from:env"}, "from:env", 64, "env NOTIFYD_CHANNEL"},
		{"empty env leaves the file", []string{"-config", file}, map[string]string{"NOTIFYD_CHANNEL": ""}, "from:file", 64, "file " + file + " line 1"},
		{"flag over env and file", []string{"-config", file, "-channel", "from:flag"}, map[string]string{"NOTIFYD_CHANNEL": "from:env"}, "from:flag", 64, "flag -channel"},
		{"flag over default", []string{"-channel", "from:flag"}, nil, "from:flag", 256, "flag -channel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			kv := map[string]string{"NOTIFYD_JWT_SECRET": testSecret}
			for k, v := range tt.env {
				kv[k] = v
			}
			c, res, err := loadConfig(tt.args, env(kv), &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			if c.Channel != tt.want || c.QueueSize != tt.wantQueue {
				t.Errorf("channel %q queue %d, want %q %d", c.Channel, c.QueueSize, tt.want, tt.wantQueue)
			}
			for _, r := range res {
				if r.flag == "channel" && r.from.String() != tt.source {
					t.Errorf("source %q, want %q", r.from, tt.source)
				}
			}
		})
	}
}

func TestConfigFileValues(t *testing.T) {
	t.Parallel()
	file := writeConfig(t, `
allowed-origins: [https://a.example, https://b.example]
admins: "users:x, users:y"
redis-addrs:
  - 10.0.0.1:26379
  - 10.0.0.2:26379
redis-master-name: mymaster
connect-rate: -1
write-timeout: 3s
delivery-channel: ""
log-level: debug
jwt-audience:
`, 0o600)
	c, err := parseConfig([]string{"-config", file}, env(map[string]string{"NOTIFYD_JWT_SECRET": testSecret}), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.AllowedOrigins, []string{"https://a.example", "https://b.example"}) ||
		!reflect.DeepEqual(c.Admins, []string{"users:x", "users:y"}) || len(c.RedisAddrs) != 2 {
		t.Errorf("lists: origins %q admins %q addrs %q", c.AllowedOrigins, c.Admins, c.RedisAddrs)
	}
	if c.ConnectRate != -1 || c.WriteTimeout.Seconds() != 3 || c.DeliveryChannel != "" || c.LogLevel.String() != "DEBUG" || c.JWTAudience != "" {
		t.Errorf("values: %+v", c)
	}
}

// A file's mistakes exit 2 and name the key, and for a bad value the file.
func TestConfigFileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		mode os.FileMode
		want []string
	}{
		{"unknown key", "channel: x\nredis-uri: redis://r\n", 0o600, []string{`unknown setting "redis-uri"`, "line 2"}},
		{"environment name as key", "NOTIFYD_CHANNEL: x\n", 0o600, []string{`"NOTIFYD_CHANNEL"`, "(channel)"}},
		{"file names a file", "config: other.yaml\n", 0o600, []string{`"config"`}},
		{"repeated key", "channel: a\nchannel: b\n", 0o600, []string{"channel is set twice"}},
		{"bad number", "notifications-length: zero\n", 0o600, []string{"notifications-length", "NOTIFYD_NOTIFICATIONS_LENGTH", "line 1", "want an integer"}},
		{"bad duration", "\nwrite-timeout: soon\n", 0o600, []string{"write-timeout", "line 2", "duration"}},
		{"list for a single value", "channel: [a, b]\n", 0o600, []string{"invalid channel", "not a list"}},
		{"mapping value", "addr: {host: x}\n", 0o600, []string{"invalid addr"}},
		{"not a mapping", "- addr\n", 0o600, []string{"want a mapping"}},
		{"not YAML", "addr: [\n", 0o600, []string{"config file"}},
		{"secret readable by all", "jwt-secret: " + testSecret + "\n", 0o644, []string{"jwt-secret", "chmod o-r"}},
		{"URL password readable by all", "redis-url: redis://:hunter2hunter2@r:6379/0\n", 0o604, []string{"redis-url", "chmod o-r"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := writeConfig(t, tt.text, tt.mode)
			for _, args := range [][]string{{"-config", path}, {"config", "check", "-config", path}} {
				var out, errOut bytes.Buffer
				code := run(t.Context(), args, env(map[string]string{"NOTIFYD_JWT_SECRET": testSecret}), &out, &errOut)
				if code != 2 {
					t.Fatalf("%v: exit %d, want 2\nstderr: %s", args, code, errOut.String())
				}
				for _, w := range append(tt.want, path) {
					if !strings.Contains(errOut.String(), w) {
						t.Errorf("%v: stderr lacks %q: %s", args, w, errOut.String())
					}
				}
				if strings.Contains(errOut.String(), "hunter2") || strings.Contains(errOut.String(), testSecret) {
					t.Errorf("%v: stderr shows a secret: %s", args, errOut.String())
				}
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		t.Parallel()
		var errOut bytes.Buffer
		missing := filepath.Join(t.TempDir(), "none.yaml")
		code := run(t.Context(), []string{"config", "check", "-config", missing}, env(nil), &bytes.Buffer{}, &errOut)
		if code != 2 || !strings.Contains(errOut.String(), missing) {
			t.Fatalf("exit %d, stderr %s", code, errOut.String())
		}
	})
	t.Run("readable by all without secrets", func(t *testing.T) {
		t.Parallel()
		path := writeConfig(t, "channel: x\njwt-secret: \"\"\n", 0o644)
		if _, err := parseConfig([]string{"-config", path}, env(map[string]string{"NOTIFYD_JWT_SECRET": testSecret}), &bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
	})
}

// config check prints every setting with its source and never a secret,
// whichever layer the secret came from.
func TestConfigCheckMasksSecrets(t *testing.T) {
	t.Parallel()
	const (
		fileSecret = "file-secret-0123456789abcdef0123456789"
		envToken   = "env-publish-token-1234"
		flagToken  = "flag-publish-token-5678"
		urlPass    = "url-password-9876"
		redisPass  = "redis-password-5432"
	)
	path := writeConfig(t, "jwt-secret: "+fileSecret+"\nredis-url: redis://user:"+urlPass+"@redis:6379/0\nchannel: from:file\n", 0o600)
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"config", "check", "-config", path, "-publish-tokens", flagToken + "," + envToken + "x"},
		env(map[string]string{"NOTIFYD_PUBLISH_TOKENS": envToken, "NOTIFYD_REDIS_PASSWORD": redisPass}), &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d\nstderr: %s", code, errOut.String())
	}
	all := out.String() + errOut.String()
	for _, s := range []string{fileSecret, envToken, flagToken, urlPass, redisPass} {
		if strings.Contains(all, s) {
			t.Errorf("output shows secret %q:\n%s", s, all)
		}
	}
	var got map[string]any
	if err := yaml.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("output is not YAML: %v\n%s", err, out.String())
	}
	if len(got) != len(settings(&config{})) {
		t.Errorf("output has %d settings, want %d", len(got), len(settings(&config{})))
	}
	for _, want := range []string{
		"jwt-secret: '********' # file " + path + " line 1",
		"redis-url: redis://user:xxxxx@redis:6379/0 # file",
		"publish-tokens: ['********', '********'] # flag -publish-tokens",
		"redis-password: '********' # env NOTIFYD_REDIS_PASSWORD",
		"channel: from:file # file",
		"addr: :8080 # default",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// config check runs the start checks that need no connection (files it
// names, tokens, origins); the config commands exit like every other.
func TestConfigCommand(t *testing.T) {
	t.Parallel()
	secret := map[string]string{"NOTIFYD_JWT_SECRET": testSecret}
	check := func(args ...string) []string { return append([]string{"config", "check"}, args...) }
	tests := []commandCase{
		{"check valid", check(), secret, 0, "effective configuration: valid"},
		{"check no verification", check(), nil, 2, "NOTIFYD_JWT_SECRET"},
		{"check short secret", check(), map[string]string{"NOTIFYD_JWT_SECRET": "short"}, 2, "want at least 32"},
		{"check missing rules file", check("-rules", "/nonexistent/rules.json"), secret, 2, "NOTIFYD_RULES"},
		{"check missing key file", check("-jwt-secret", "", "-jwt-public-key", "/nonexistent/k.pem"), nil, 2, "NOTIFYD_JWT_PUBLIC_KEY"},
		{"check short publish token", check("-publish-tokens", "short"), secret, 2, "NOTIFYD_PUBLISH_TOKENS"},
		{"check bad origin", check("-allowed-origins", "not a url"), secret, 2, "NOTIFYD_ALLOWED_ORIGINS"},
		{"check bad redis url", check("-redis-url", "http://:pw@x"), secret, 2, "NOTIFYD_REDIS_URL"},
		{"check bad flag", check("-nope"), secret, 2, "-nope"},
		{"check extra argument", check("extra"), secret, 2, "extra"},
		{"check -h", check("-h"), nil, 0, "-redis-url"},
		{"check warning", check("-allowed-origins", "https://a.example,https://b.example"), secret, 0, "# warning: several sites"},
		{"config", []string{"config"}, nil, 2, "want check, defaults or table"},
		{"unknown", []string{"config", "nope"}, nil, 2, `unknown command "nope"`},
		{"defaults with argument", []string{"config", "defaults", "x"}, nil, 2, `unexpected argument "x"`},
		{"config -h", []string{"config", "-h"}, nil, 0, "notifyd config check"},
		{"help", []string{"help"}, nil, 0, "notifyd config defaults"},
		{"-h", []string{"-h"}, nil, 0, "-config"},
		{"table", []string{"config", "table"}, nil, 0, "| `-config` | `NOTIFYD_CONFIG` |"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t)
		})
	}
}

// The defaults file is a valid input that yields the defaults.
func TestConfigDefaultsRoundTrip(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"config", "defaults"}, env(nil), &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, s := range settings(&config{}) {
		if !strings.Contains(out.String(), "\n"+s.flag+": ") || !strings.Contains(out.String(), "# env "+s.env+",") {
			t.Errorf("defaults lack %s (%s)", s.flag, s.env)
		}
	}
	path := writeConfig(t, out.String(), 0o600)
	secret := env(map[string]string{"NOTIFYD_JWT_SECRET": testSecret})
	fromFile, res, err := loadConfig([]string{"-config", path}, secret, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.from.kind != "file" && r.flag != "jwt-secret" {
			t.Errorf("%s from %s, want the file", r.flag, r.from)
		}
		if r.value != r.def && !(r.list && len(splitList(r.value)) == 0 && r.def == "") && r.flag != "jwt-secret" {
			t.Errorf("%s = %q, want the default %q", r.flag, r.value, r.def)
		}
	}
	defaults, err := parseConfig(nil, secret, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromFile, defaults) {
		t.Errorf("config from the defaults file\n%+v\ndiffers from the defaults\n%+v", fromFile, defaults)
	}
}

const (
	tableStart = "<!-- config-table:start -->\n"
	tableEnd   = "<!-- config-table:end -->"
)

// README's configuration table is the one the code generates.
func TestREADMEConfigTable(t *testing.T) {
	t.Parallel()
	const readme = "../../README.md"
	data, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	i, j := strings.Index(text, tableStart), strings.Index(text, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the markers %q and %q", tableStart, tableEnd)
	}
	got, want := text[i+len(tableStart):j], configTable()
	if got == want {
		return
	}
	if *updateREADME {
		if err := os.WriteFile(readme, []byte(text[:i+len(tableStart)]+want+text[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's configuration table differs from the code's (settings() in cmd/notifyd/config.go).\n"+
		"Regenerate it with: go test ./cmd/notifyd -run TestREADMEConfigTable -update-readme\n%s", lineDiff(got, want))
}

// lineDiff lists the lines only in got (-) and only in want (+).
func lineDiff(got, want string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	g, w := in(got), in(want)
	var b strings.Builder
	for _, l := range strings.Split(got, "\n") {
		if !w[l] {
			b.WriteString("- README: " + l + "\n")
		}
	}
	for _, l := range strings.Split(want, "\n") {
		if !g[l] {
			b.WriteString("+ code:   " + l + "\n")
		}
	}
	return b.String()
}
