package history_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/message"
)

// BenchmarkAppendBatch stores batches of the subscriber's intake on a real
// redis-server, with the inbox on: targeted (each message to one of 1000
// users, as fanbench's targeted workload) and broadcast (every message to
// system.Authenticated), from one sender. Beside ns/op it reports what the
// store costs Redis per message: its CPU (user+sys, INFO cpu) and the time
// its scripts ran (INFO commandstats).
func BenchmarkAppendBatch(b *testing.B) {
	for _, kind := range []string{"targeted", "broadcast"} {
		for _, size := range []int{4, 32} {
			b.Run(fmt.Sprintf("%s/batch=%d", kind, size), func(b *testing.B) {
				rdb, _ := realRedis(b)
				h, _ := inboxHistory(b, rdb, history.Config{})
				ctx := context.Background()
				n := 0
				batch := make([]history.Entry, size)
				cpu0, script0 := redisCost(b, rdb)
				for b.Loop() {
					for i := range batch {
						p := message.Authenticated
						if kind == "targeted" {
							p = "users:u" + strconv.Itoa(n%1000)
						}
						batch[i] = note("id-"+strconv.Itoa(n), "users:sender", "bench", p)
						n++
					}
					if _, err := h.AppendBatch(ctx, batch); err != nil {
						b.Fatal(err)
					}
				}
				cpu1, script1 := redisCost(b, rdb)
				b.ReportMetric((cpu1-cpu0)/float64(n), "redis-cpu-µs/msg")
				b.ReportMetric((script1-script0)/float64(n), "script-µs/msg")
			})
		}
	}
}

// redisCost returns Redis's CPU (user+sys) and the time its scripts ran,
// both in µs.
func redisCost(b *testing.B, rdb *redis.Client) (cpu, script float64) {
	b.Helper()
	ctx := context.Background()
	info, err := rdb.Info(ctx, "cpu", "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\r\n") {
		k, v, _ := strings.Cut(line, ":")
		switch k {
		case "used_cpu_user", "used_cpu_sys":
			f, _ := strconv.ParseFloat(v, 64)
			cpu += f * 1e6
		case "cmdstat_evalsha", "cmdstat_eval":
			for field := range strings.SplitSeq(v, ",") {
				if us, ok := strings.CutPrefix(field, "usec="); ok {
					f, _ := strconv.ParseFloat(us, 64)
					script += f
				}
			}
		}
	}
	return cpu, script
}
