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
	fmt.Fprintf(w, "One Go reader blocked on a ring is woken by a 64-byte message while 1, 100 or 10,000 other readers are blocked on rings of their own (bench/wake_test.go): the benchmark and a Go child process (its echo side, both pinned to one CPU) ping-pong over two rings with spinning off, and ns/op is half a round trip; CPU is the benchmark process's CPU time per wake-up, idle readers included. ")
	fmt.Fprintf(w, "The child is the live producer of every idle ring. Idle waits are multiplexed through io_uring (internal/futexwait) and hold no thread, and the idle readers watch their peer's death as an event (a pidfd in the netpoller) and never wake up, where checking the peer every 50 ms cost 200,000 wake-ups a second at 10,000 readers. ")
	fmt.Fprintf(w, "The round-trip table above has ring-blocking-thread rows: the same round trips with the Go ends forced to a futex wait in their thread (SHMMAP_FUTEXWAIT=thread), the wait before issue 14.\n\n")
	fmt.Fprintf(w, "| idle readers | median | min–max | × idle=1 (median, min–max) | CPU per wake-up (median) | idle wake-ups/s (median) |\n|---|---|---|---|---|---|\n")
	base := res.ns["BenchmarkWakeLatency/idle=1"]
	for _, idle := range wakeIdle {
		row := "BenchmarkWakeLatency/" + idle
		ns := res.ns[row]
		if len(ns) == 0 {
			fmt.Fprintf(w, "| %s | not measured (skipped: `go test -v -bench WakeLatency` says why) | — | — | — | — |\n", strings.TrimPrefix(idle, "idle="))
			continue
		}
		lo, hi := ns.minMax()
		r := ratio(ns, base)
		rlo, rhi := r.minMax()
		cpu, wakes := "—", "—"
		if v := res.ext["cpu-ns/op"][row]; len(v) > 0 {
			cpu = fmtNs(v.median())
		}
		if v := res.ext["idle-wakes/s"][row]; len(v) > 0 {
			wakes = fmt.Sprintf("%.0f", v.median())
		}
		fmt.Fprintf(w, "| %s | %s | %s–%s | %.2f× (%.2f–%.2f) | %s | %s |\n", strings.TrimPrefix(idle, "idle="), fmtNs(ns.median()), fmtNs(lo), fmtNs(hi), r.median(), rlo, rhi, cpu, wakes)
	}
}
