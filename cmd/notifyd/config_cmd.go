package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
	"go.yaml.in/yaml/v3"
)

// configUsage is what `notifyd config -h` prints.
const configUsage = `Usage:
  notifyd config check [-config FILE] [flags]
        parse the configuration exactly as the service would (flags > NOTIFYD_* environment >
        file > defaults), validate it without connecting to anything, and print the effective
        configuration as YAML with the source of each value, secrets masked; exit 0 valid, 2 invalid
  notifyd config defaults
        print a configuration file with every setting at its default, each with its meaning
  notifyd config table
        print the README's configuration table (generated from the code)
`

// runConfig is `notifyd config`.
func runConfig(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, configUsage)
		return usagef("config: want check, defaults or table")
	}
	sub, rest := args[0], args[1:]
	if sub != "check" && len(rest) > 0 {
		return usagef("config %s: unexpected argument %q", sub, rest[0])
	}
	switch sub {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, configUsage)
		return nil
	case "defaults":
		var b strings.Builder
		b.WriteString(defaultsHeader)
		if err := writeYAML(&b, defaultsDocument()); err != nil {
			return err
		}
		_, err := io.WriteString(stdout, spaceComments(b.String()))
		return err
	case "table":
		_, err := io.WriteString(stdout, configTable())
		return err
	case "check":
		cfg, res, err := loadConfig(rest, getenv, stderr)
		switch {
		case errors.Is(err, flag.ErrHelp):
			return err
		case err != nil:
			return configError{err}
		}
		warnings, err := validateConfig(ctx, cfg)
		if err != nil {
			return configError{err}
		}
		return writeYAML(stdout, effectiveDocument(res, warnings))
	}
	fmt.Fprint(stderr, configUsage)
	return usagef("config: unknown command %q", sub)
}

// validateConfig runs the checks the service runs at start that need no
// connection: it builds every component on a Redis client that is never
// dialled, reading the key and rules files. It returns the warnings the
// service would log.
func validateConfig(ctx context.Context, cfg *config) ([]string, error) {
	var warnings []string
	c := &components{cfg: cfg, log: slog.New(warningHandler{&warnings})}
	if len(cfg.RedisAddrs) == 0 && cfg.RedisURL == "" {
		warnings = append(warnings, "no NOTIFYD_REDIS_URL: notifyd runs an embedded in-process Redis; history is not durable and not shared with other gateways")
	}
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:0"}) // the builders only keep it
	defer rdb.Close()
	c.redis = &redisConn{client: rdb}
	for _, step := range []func(context.Context) error{c.buildAccess, c.buildStores, c.buildGateway, c.buildSubscriber} {
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	if _, err := newRoutes(c.apiConfig()); err != nil {
		return nil, err
	}
	return warnings, nil
}

// warningHandler is a slog.Handler that keeps the messages of warnings.
type warningHandler struct{ msgs *[]string }

func (h warningHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (h warningHandler) Handle(_ context.Context, r slog.Record) error {
	*h.msgs = append(*h.msgs, r.Message)
	return nil
}
func (h warningHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h warningHandler) WithGroup(string) slog.Handler      { return h }

// effectiveDocument is the check's output: every setting with its value
// (secrets masked) and, as a comment, its source.
func effectiveDocument(res []resolved, warnings []string) *yaml.Node {
	head := []string{"notifyd effective configuration: valid.",
		"Each value is followed by its source; precedence: flag > environment > file > default."}
	for _, w := range warnings {
		head = append(head, wrap("warning: "+w, 98))
	}
	m := &yaml.Node{Kind: yaml.MappingNode, HeadComment: strings.Join(head, "\n")}
	for _, r := range res {
		v := valueNode(r.setting, r.value, true)
		v.LineComment = r.from.String()
		m.Content = append(m.Content, keyNode(r.flag), v)
	}
	return m
}

// defaultsHeader opens the output of `notifyd config defaults`.
const defaultsHeader = `# notifyd configuration file: every setting at its default.
# Use it with notifyd -config FILE or NOTIFYD_CONFIG=FILE; check it with notifyd config check -config FILE.
# Keys are the flag names. A flag, then a non-empty NOTIFYD_* variable, override what the file says.
# Lists are YAML lists or comma-separated strings. A file that holds a secret (jwt-secret,
# publish-tokens, redis-password, a password in a URL) must not be readable by every user.

`

// defaultsDocument is a configuration file with every setting at its
// default, each under its meaning.
func defaultsDocument() *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode}
	for _, s := range settings(&config{}) {
		k := keyNode(s.flag)
		k.HeadComment = wrap(plainUsage(s.usage), 98) + "\nenv " + s.env + ", flag -" + s.flag
		m.Content = append(m.Content, k, valueNode(s, s.def, false))
	}
	return m
}

func keyNode(k string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: k} }

// valueNode is v as YAML: a flow list for a list setting, a plain number
// when it reads as one, else a string (quoted when YAML would read it as
// something else). mask hides secrets and passwords in URLs.
func valueNode(s setting, v string, mask bool) *yaml.Node {
	scalar := func(v string) *yaml.Node {
		if mask && s.secret && v != "" {
			v = "********"
		} else if mask {
			v = redactURL(v)
		}
		n := &yaml.Node{Kind: yaml.ScalarNode, Value: v, Tag: "!!str"}
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			n.Tag = ""
		}
		return n
	}
	if !s.list {
		return scalar(v)
	}
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, item := range splitList(v) {
		n.Content = append(n.Content, scalar(item))
	}
	return n
}

// redactURL is v with the password of a URL replaced by xxxxx.
func redactURL(v string) string {
	if !hasURLPassword(v) {
		return v
	}
	u, _ := url.Parse(v)
	return u.Redacted()
}

func writeYAML(w io.Writer, n *yaml.Node) error {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return enc.Close()
}

// spaceComments puts a blank line before each comment that follows a
// value, so that each setting of a commented file stands apart.
func spaceComments(doc string) string {
	lines := strings.SplitAfter(doc, "\n")
	var b strings.Builder
	for i, l := range lines {
		if i > 0 && strings.HasPrefix(l, "#") && !strings.HasPrefix(lines[i-1], "#") {
			b.WriteByte('\n')
		}
		b.WriteString(l)
	}
	return b.String()
}

// wrap breaks text into lines of at most width bytes, at spaces.
func wrap(text string, width int) string {
	var b strings.Builder
	n := 0
	for i, w := range strings.Fields(text) {
		switch {
		case i == 0:
		case n+1+len(w) > width:
			b.WriteByte('\n')
			n = 0
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}

// configTable is the README's configuration table, in Markdown.
func configTable() string {
	var b strings.Builder
	b.WriteString("| flag | environment | default | meaning |\n|---|---|---|---|\n")
	for _, s := range append([]setting{configFile}, settings(&config{})...) {
		def := "empty"
		if s.def != "" {
			def = "`" + s.def + "`"
		}
		fmt.Fprintf(&b, "| `-%s` | `%s` | %s | %s |\n", s.flag, s.env, def, strings.ReplaceAll(s.usage, "|", `\|`))
	}
	return b.String()
}
