package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// options are the command line.
type options struct {
	clients       int
	rate          int
	phaseDuration time.Duration
	drain         time.Duration
	faults        []string
	notifyd       string
	redisServer   string
	quick         bool
	timeout       time.Duration
	seed          uint64
	keep          bool
	verbose       bool
	race          bool
	history       int
	channel       string
	chat          chatConfig
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	var faults string
	fs := flag.NewFlagSet("notifyd-chaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: notifyd-chaos [flags]\n\nRuns redis-server and two notifyd gateways on loopback ports, connects clients, publishes\n"+
			"a steady stream and injects each fault in turn; prints a Markdown table.\n\nfaults: "+
			strings.Join(faultNames(), ", ")+"\n")
		fs.PrintDefaults()
	}
	fs.IntVar(&o.clients, "clients", 200, "websocket clients, split across the two gateways")
	fs.IntVar(&o.rate, "rate", 200, "messages published per second (2/3 through POST /api/chat/messages, 1/3 bare PUBLISH)")
	fs.DurationVar(&o.phaseDuration, "phase-duration", 5*time.Second, "publishing time of each phase")
	fs.DurationVar(&o.drain, "drain", 10*time.Second, "longest wait for late deliveries after a phase's publishing")
	fs.StringVar(&faults, "faults", "", "comma-separated faults to inject (default: all; with -quick: "+strings.Join(quickFaults, ",")+")")
	fs.StringVar(&o.notifyd, "notifyd", "", "notifyd binary (default: go build ./cmd/notifyd into the run's temp dir)")
	fs.StringVar(&o.redisServer, "redis-server", "", "redis-server binary (default: from PATH)")
	fs.BoolVar(&o.quick, "quick", false, "small numbers for CI: 20 clients, 50 msg/s, 2s phases, cheap faults only (explicit flags win)")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "bound on the whole run")
	fs.Uint64Var(&o.seed, "seed", 0, "seed of the message mix (0: from the clock)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temp dir (logs, AOF) even when every phase passed")
	fs.IntVar(&o.history, "history", 0, "NOTIFYD_NOTIFICATIONS_LENGTH of the gateways (0: 5s of stream, at least 1000)")
	fs.BoolVar(&o.race, "race", false, "build notifyd with the race detector; a race in a gateway log fails the phase")
	fs.BoolVar(&o.verbose, "v", false, "log clients' reconnects to stderr")
	fs.IntVar(&o.chat.users, "chat-users", 20, "chat users sending in shared spaces alongside the fleet in every phase (0: no chat)")
	fs.IntVar(&o.chat.spaces, "chat-spaces", 5, "spaces the chat users share")
	fs.IntVar(&o.chat.members, "chat-members", 6, "members per space")
	fs.IntVar(&o.chat.outsiders, "chat-outsiders", 4, "chat users that are members of no space (they probe, and must see nothing)")
	fs.IntVar(&o.chat.rate, "chat-rate", 20, "chat sends per second, all users together (each user sends one at a time)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.quick {
		if !set["clients"] {
			o.clients = 20
		}
		if !set["rate"] {
			o.rate = 50
		}
		if !set["phase-duration"] {
			o.phaseDuration = 2 * time.Second
		}
		if !set["drain"] {
			o.drain = 5 * time.Second
		}
		if !set["timeout"] {
			o.timeout = 3 * time.Minute
		}
		if !set["chat-users"] {
			o.chat.users = 12
		}
		if !set["chat-spaces"] {
			o.chat.spaces = 3
		}
		if !set["chat-members"] {
			o.chat.members = 4
		}
		if !set["chat-outsiders"] {
			o.chat.outsiders = 2
		}
		if !set["chat-rate"] {
			o.chat.rate = 10
		}
	}
	switch {
	case faults != "":
		o.faults = splitList(faults)
	case o.quick:
		o.faults = quickFaults
	default:
		o.faults = faultNames()
	}
	if o.history == 0 {
		// Longer than any outage a phase causes; space messages are stored
		// on the site too.
		o.history = max(1000, (o.rate+o.chat.rate)*5)
	}
	if o.seed == 0 {
		o.seed = uint64(time.Now().UnixNano())
	}
	o.channel = "chat:main"
	switch {
	case o.clients < 2 || o.clients > 5000:
		return o, errors.New("-clients must be in [2, 5000]")
	case o.rate < 1 || o.rate > 5000:
		return o, errors.New("-rate must be in [1, 5000]")
	case o.phaseDuration < 500*time.Millisecond || o.phaseDuration > 5*time.Minute:
		return o, errors.New("-phase-duration must be in [500ms, 5m]")
	case o.drain < 0 || o.drain > 5*time.Minute:
		return o, errors.New("-drain must be in [0, 5m]")
	case o.history < 1:
		return o, errors.New("-history must be positive")
	case o.timeout <= 0 || o.timeout > time.Hour:
		return o, errors.New("-timeout must be in (0, 1h]")
	}
	if o.chat.users == 0 {
		return o, nil
	}
	switch c := o.chat; {
	case c.users < 0 || c.users > 1000:
		return o, errors.New("-chat-users must be in [0, 1000]")
	case c.spaces < 1 || c.spaces > 100:
		return o, errors.New("-chat-spaces must be in [1, 100]")
	case c.outsiders < 0 || c.outsiders >= c.users-1:
		return o, errors.New("-chat-outsiders must leave at least two member users")
	case c.members < 2 || c.members > c.users-c.outsiders:
		return o, errors.New("-chat-members must be in [2, chat users - outsiders]")
	case c.rate < 1 || c.rate > 1000:
		return o, errors.New("-chat-rate must be in [1, 1000]")
	}
	return o, nil
}

func faultNames() []string {
	var out []string
	for _, f := range allFaults() {
		out = append(out, f.name)
	}
	return out
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
