package main

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Fault names, in the order they run.
const (
	faultBaseline     = "baseline"
	faultRedisRestart = "redis-restart"
	faultPubsubKill   = "pubsub-kill"
	faultSigterm      = "sigterm"
	faultSigkill      = "sigkill"
	faultSlowClient   = "slow-client"
	faultGarbage      = "garbage"
	faultRevoke       = "revoke"
	faultAttack       = "attack"
)

// allFaults lists every fault in run order.
func allFaults() []*faultSpec {
	return []*faultSpec{
		{name: faultBaseline, strictBare: true},
		{name: faultRedisRestart, inject: redisRestart},
		{name: faultPubsubKill, inject: pubsubKill},
		{name: faultSigterm, strictBare: true, inject: func(ctx context.Context, c *chaos, ph *phase) error {
			return gatewayDown(ctx, c, ph, false)
		}},
		{name: faultSigkill, strictBare: true, inject: func(ctx context.Context, c *chaos, ph *phase) error {
			return gatewayDown(ctx, c, ph, true)
		}},
		{name: faultSlowClient, strictBare: true, prepare: slowPrepare, inject: slowInject, finish: slowFinish},
		{name: faultGarbage, strictBare: true, inject: garbageInject, finish: garbageFinish},
		{name: faultRevoke, strictBare: true, prepare: revokePrepare, inject: revokeInject, finish: revokeFinish},
		{name: faultAttack, strictBare: true, inject: attackInject, finish: attackFinish},
		{name: faultOrder, strictBare: true, inject: orderInject, finish: orderFinish},
	}
}

// quickFaults are the cheap ones the CI test runs.
var quickFaults = []string{faultBaseline, faultPubsubKill, faultSlowClient, faultGarbage, faultAttack}

// selectFaults returns the specs named in names, in run order.
func selectFaults(names []string) ([]*faultSpec, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []*faultSpec
	for _, f := range allFaults() {
		if want[f.name] {
			out = append(out, f)
			delete(want, f.name)
		}
	}
	if len(want) > 0 {
		var unknown []string
		for n := range want {
			unknown = append(unknown, n)
		}
		return nil, fmt.Errorf("unknown fault(s) %s", strings.Join(unknown, ","))
	}
	return out, nil
}

// redisDown is how long the redis-restart fault keeps Redis stopped.
const redisDown = 2 * time.Second

func redisRestart(ctx context.Context, c *chaos, ph *phase) error {
	ph.injected = time.Now()
	took, err := c.redis.stop(10 * time.Second)
	if err != nil {
		return err
	}
	sleep(ctx, redisDown)
	if err := c.redis.startAndWait(ctx); err != nil {
		return fmt.Errorf("redis restart: %w", err)
	}
	ph.restored = time.Now()
	ph.note("redis stopped (SIGTERM, %v) and restarted after %v with its AOF", took.Round(time.Millisecond), redisDown)
	return nil
}

func pubsubKill(ctx context.Context, c *chaos, ph *phase) error {
	ph.injected = time.Now()
	n, err := c.rdb.Do(ctx, "CLIENT", "KILL", "TYPE", "pubsub").Int64()
	if err != nil {
		return fmt.Errorf("CLIENT KILL TYPE pubsub: %w", err)
	}
	ph.note("CLIENT KILL TYPE pubsub closed %d connections", n)
	if n == 0 {
		return fmt.Errorf("CLIENT KILL TYPE pubsub closed no connection")
	}
	return nil
}

// gatewayDown stops the gateway that has the most clients (SIGTERM, or
// SIGKILL when kill), waits until every client is connected again (to the
// other gateway, with since), then restarts it on the same port.
func gatewayDown(ctx context.Context, c *chaos, ph *phase, kill bool) error {
	per := c.fleet.perGateway()
	victim := 0
	for i, n := range per {
		if n > per[victim] {
			victim = i
		}
	}
	g := c.gws[victim]
	ph.injected = time.Now()
	how := "SIGTERM"
	if kill {
		how = "SIGKILL"
		if err := g.kill(); err != nil {
			return err
		}
	} else if took, err := g.stop(15 * time.Second); err != nil {
		return err
	} else {
		ph.note("gateway%d exited %v after SIGTERM", victim+1, took.Round(time.Millisecond))
	}
	ph.restored = time.Now() // the process is gone: what follows is the clients' recovery
	// First every client of the victim notices, then every client is
	// connected again (to the other gateway).
	moved := poll(ctx, 30*time.Second, func() bool { return c.fleet.perGateway()[victim] == 0 }, "clients noticed")
	if moved == nil {
		moved = poll(ctx, 30*time.Second, func() bool { return c.fleet.connected() == len(c.fleet.clients) }, "clients reconnected")
	}
	if moved == nil {
		ph.note("%s gateway%d (%d clients); all clients connected again after %v", how, victim+1, per[victim],
			time.Since(ph.injected).Round(time.Millisecond))
	}
	// Restart whatever happened, so that later phases have two gateways.
	if err := g.startAndWait(ctx); err != nil {
		return fmt.Errorf("restart gateway%d: %w", victim+1, err)
	}
	if moved != nil {
		return fmt.Errorf("%s gateway%d (%d clients): %w (%d of %d connected)", how, victim+1, per[victim], moved,
			c.fleet.connected(), len(c.fleet.clients))
	}
	return nil
}
