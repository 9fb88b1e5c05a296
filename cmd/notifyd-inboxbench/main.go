// Command notifyd-inboxbench measures the inbox (package history) on a
// Redis that it is given (loopback only): the store cost per message, the
// Redis memory per stored message, and the latency of an inbox page and
// a count, against the site-list read (history.List plus the visibility
// filter) that the REST API and the replay used before the inbox.
//
// It stores -messages messages on one site for -users users: a mix of
// targeted (one user), group (one of -groups groups) and broadcast
// (system.Authenticated) messages, in batches (AppendBatch, as the
// subscribers store), then samples -samples random users. It flushes
// nothing: give it an empty Redis it may fill.
//
//	redis-server --port 6399 --save '' --appendonly no &
//	go run ./cmd/notifyd-inboxbench -addr 127.0.0.1:6399
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/message"
)

const host = "https://bench.example.com"

func main() {
	addr := flag.String("addr", "127.0.0.1:6399", "Redis address (loopback only)")
	users := flag.Int("users", 10000, "users")
	groups := flag.Int("groups", 100, "groups (each user is in one)")
	messages := flag.Int("messages", 1000000, "messages to store (at most 2 000 000; 0: sample what a previous run stored)")
	targeted := flag.Float64("targeted", 0.7, "share of messages for one user")
	broadcast := flag.Float64("broadcast", 0.1, "share of messages for everyone (the rest: a group)")
	batch := flag.Int("batch", 200, "entries per AppendBatch")
	samples := flag.Int("samples", 2000, "page and count samples")
	siteList := flag.Int("list", 1000, "length of PyAMS's site list (history.Length) for the List comparison")
	flag.Parse()
	if h, _, err := net.SplitHostPort(*addr); err != nil || !net.ParseIP(h).IsLoopback() {
		log.Fatalf("-addr %q: loopback addresses only", *addr)
	}
	*messages = min(*messages, 2000000)
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: *addr})
	defer rdb.Close()
	h, err := history.New(rdb, history.Config{Key: "bench", Length: *siteList, DeliveryChannel: "bench:delivery"})
	if err != nil {
		log.Fatal(err)
	}
	before := usedMemory(ctx, rdb)
	cpuBefore, callsBefore := redisWork(ctx, rdb)
	rng := rand.New(rand.NewPCG(1, 2))
	ts := message.FormatTimestamp(time.Now())
	var gen message.IDGen
	start := time.Now()
	entries := make([]history.Entry, 0, *batch)
	var storeTime time.Duration
	for i := 0; i < *messages; {
		entries = entries[:0]
		for ; len(entries) < *batch && i < *messages; i++ {
			entries = append(entries, newEntry(rng, &gen, ts, *users, *groups, *targeted, *broadcast))
		}
		t := time.Now()
		if _, err := h.AppendBatch(ctx, entries); err != nil {
			log.Fatal(err)
		}
		storeTime += time.Since(t)
		if i%100000 == 0 {
			fmt.Fprintf(os.Stderr, "stored %d in %v\n", i, time.Since(start).Round(time.Second))
		}
	}
	after := usedMemory(ctx, rdb)
	cpuAfter, callsAfter := redisWork(ctx, rdb)
	kept, _ := rdb.ZCard(ctx, "{bench::"+host+"}:l").Result()
	if *messages > 0 {
		fmt.Printf("stored %d messages (%d users, %d groups, %.0f%% targeted, %.0f%% broadcast) in %v\n",
			*messages, *users, *groups, *targeted*100, *broadcast*100, time.Since(start).Round(time.Millisecond))
		fmt.Printf("store: %.1f µs per message (AppendBatch of %d, one client)\n", float64(storeTime.Microseconds())/float64(*messages), *batch)
		fmt.Printf("redis: %.1f µs CPU, %.1f commands (scripts' own included) per message\n",
			float64((cpuAfter-cpuBefore).Microseconds())/float64(*messages), float64(callsAfter-callsBefore)/float64(*messages))
		fmt.Printf("memory: %d MB used; %d messages kept (bodies); %.0f bytes per stored message, %.0f per kept message\n",
			(after-before)>>20, kept, float64(after-before)/float64(*messages), float64(after-before)/float64(kept))
	}

	var page, count, list []time.Duration
	var pageItems, listItems int
	for range *samples {
		u := rng.IntN(*users)
		r := reader(u, *groups)
		t := time.Now()
		p, err := h.Page(ctx, r, history.PageOptions{Counts: true})
		if err != nil {
			log.Fatal(err)
		}
		page = append(page, time.Since(t))
		pageItems += len(p.Items)
		t = time.Now()
		if _, err := h.Count(ctx, r); err != nil {
			log.Fatal(err)
		}
		count = append(count, time.Since(t))
		t = time.Now()
		ms, err := h.List(ctx, host)
		if err != nil {
			log.Fatal(err)
		}
		rc := message.Recipient{Host: host, Principal: r.User, Principals: r.Principals}
		n := 0
		for _, m := range ms {
			if m.VisibleTo(rc) {
				n++
			}
		}
		list = append(list, time.Since(t))
		listItems += n
	}
	fmt.Printf("inbox page (50, newest): p50 %v p99 %v, %.1f items on average\n", pct(page, 50), pct(page, 99), float64(pageItems)/float64(*samples))
	fmt.Printf("inbox count:             p50 %v p99 %v\n", pct(count, 50), pct(count, 99))
	var read []time.Duration
	for range *samples / 10 {
		r := reader(rng.IntN(*users), *groups)
		if _, err := h.MarkAllRead(ctx, r); err != nil {
			log.Fatal(err)
		}
		t := time.Now()
		if _, err := h.Count(ctx, r); err != nil {
			log.Fatal(err)
		}
		read = append(read, time.Since(t))
	}
	fmt.Printf("inbox count after MarkAllRead: p50 %v p99 %v\n", pct(read, 50), pct(read, 99))
	fmt.Printf("site list (List of %d + filter): p50 %v p99 %v, %.1f visible entries on average\n", *siteList, pct(list, 50), pct(list, 99), float64(listItems)/float64(*samples))
}

func reader(u, groups int) history.Reader {
	user := "users:" + strconv.Itoa(u)
	return history.Reader{Host: host, User: user, Principals: []string{user, "groups:" + strconv.Itoa(u%groups), message.Authenticated}}
}

func newEntry(rng *rand.Rand, gen *message.IDGen, ts string, users, groups int, targeted, broadcast float64) history.Entry {
	var target string
	switch x := rng.Float64(); {
	case x < targeted:
		target = "users:" + strconv.Itoa(rng.IntN(users))
	case x < targeted+broadcast:
		target = message.Authenticated
	default:
		target = "groups:" + strconv.Itoa(rng.IntN(groups))
	}
	m := &message.Message{
		Host: host, Channel: "chat:main", Action: "notify", Category: "content.review", Status: "info",
		Title: "Document to review", Body: "Please review the document " + strconv.Itoa(rng.IntN(1e6)),
		Source:    &message.Source{ID: "users:" + strconv.Itoa(rng.IntN(users)), Title: "Some User"},
		Target:    &message.Target{Principals: []string{target}},
		URL:       "https://bench.example.com/documents/" + strconv.Itoa(rng.IntN(1e6)),
		Timestamp: ts, ID: gen.New(time.Now()),
	}
	return history.EntryOf(m, m.StoredJSON())
}

func usedMemory(ctx context.Context, rdb *redis.Client) int64 {
	info, err := rdb.Info(ctx, "memory").Result()
	if err != nil {
		log.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	log.Fatal("no used_memory in INFO memory")
	return 0
}

// redisWork returns the CPU Redis has used (user and system) and the
// commands it has run, scripts' own commands included (INFO commandstats).
func redisWork(ctx context.Context, rdb *redis.Client) (time.Duration, int64) {
	info, err := rdb.Info(ctx, "cpu", "commandstats").Result()
	if err != nil {
		log.Fatal(err)
	}
	var cpu float64
	var calls int64
	for _, line := range strings.Split(info, "\n") {
		line = strings.TrimSpace(line)
		for _, k := range []string{"used_cpu_sys:", "used_cpu_user:"} {
			if v, ok := strings.CutPrefix(line, k); ok {
				f, _ := strconv.ParseFloat(v, 64)
				cpu += f
			}
		}
		if _, v, ok := strings.Cut(line, ":calls="); ok && strings.HasPrefix(line, "cmdstat_") {
			v, _, _ = strings.Cut(v, ",")
			n, _ := strconv.ParseInt(v, 10, 64)
			calls += n
		}
	}
	return time.Duration(cpu * float64(time.Second)), calls
}

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)].Round(time.Microsecond)
}
