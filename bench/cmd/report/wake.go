package main

import (
	"fmt"
	"strings"
)

// The futex wait rows (issue 14): BenchmarkRoundTrip's ring-blocking rows
// with the multiplexed wait (the default) against ring-blocking-thread (the
// wait in the goroutine's thread, forced), and BenchmarkWakeLatency with 1,
// 100 and 10,000 idle readers.
var (
	waitDirections = []string{"Go-Go", "Go-C", "C-Go"}
	wakeIdle       = []string{"idle=1", "idle=100", "idle=10000"}
)

// waitTargets: the multiplexed wait costs the hot round trip at most 10%.
func waitTargets() []target {
	var ts []target
	for _, d := range waitDirections {
		ts = append(ts, target{Name: "multiplexed futex wait ≤ 1.1× thread wait", Row: "BenchmarkRoundTrip/ring-blocking-" + d, Base: "BenchmarkRoundTrip/ring-blocking-thread-" + d, Max: 1.1})
	}
	return ts
}

func writeWakeSection(w *strings.Builder, res *results) {
	fmt.Fprintf(w, "\n## Wake-up latency with idle waiters (ns per wake-up, lower is better)\n\n")
	fmt.Fprintf(w, "One Go reader blocked on a ring is woken by a 64-byte message while 1, 100 or 10,000 other readers are blocked on rings of their own, in one process (bench/wake_test.go): two goroutines ping-pong over two rings with spinning off, and ns/op is half a round trip. ")
	fmt.Fprintf(w, "Idle waits are multiplexed through io_uring (internal/futexwait) and hold no thread; each idle reader still wakes every 50 ms for its peer check. ")
	fmt.Fprintf(w, "The round-trip table above has ring-blocking-thread rows: the same round trips with the Go ends forced to a futex wait in their thread (SHMMAP_FUTEXWAIT=thread), the wait before issue 14.\n\n")
	fmt.Fprintf(w, "| idle readers | median | min–max | × idle=1 (median, min–max) |\n|---|---|---|---|\n")
	base := res.ns["BenchmarkWakeLatency/idle=1"]
	for _, idle := range wakeIdle {
		ns := res.ns["BenchmarkWakeLatency/"+idle]
		if len(ns) == 0 {
			fmt.Fprintf(w, "| %s | not measured (skipped: `go test -v -bench WakeLatency` says why) | — | — |\n", strings.TrimPrefix(idle, "idle="))
			continue
		}
		lo, hi := ns.minMax()
		r := ratio(ns, base)
		rlo, rhi := r.minMax()
		fmt.Fprintf(w, "| %s | %s | %s–%s | %.2f× (%.2f–%.2f) |\n", strings.TrimPrefix(idle, "idle="), fmtNs(ns.median()), fmtNs(lo), fmtNs(hi), r.median(), rlo, rhi)
	}
}
