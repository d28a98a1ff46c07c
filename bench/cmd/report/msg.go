package main

import (
	"fmt"
	"strings"
)

// The message-queue round trips: BenchmarkMsgRoundTrip (System V) and
// BenchmarkMqRoundTrip (POSIX), rows C, cshim, purego and the safe API.
var msgFamilies = []struct {
	Family, Title, Safe string // Safe: the safe API's row
}{
	{"BenchmarkMsgRoundTrip", "System V msgsnd+msgrcv", "Queue"},
	{"BenchmarkMqRoundTrip", "POSIX mq_timedsend+mq_timedreceive", "posixmq"},
}

// msgTargets: per round trip, purego within 5% of C and the safe API
// within 10%.
func msgTargets() []target {
	var ts []target
	for _, f := range msgFamilies {
		ts = append(ts,
			target{Name: "purego ≤ 1.05× C", Row: f.Family + "/purego", Base: f.Family + "/C", Max: 1.05},
			target{Name: "safe API ≤ 1.10× C", Row: f.Family + "/" + f.Safe, Base: f.Family + "/C", Max: 1.10})
	}
	return ts
}

func writeMsgSection(w *strings.Builder, res *results) {
	fmt.Fprintf(w, "\n## Message-queue round trips, 64-byte message (ns per round trip, lower is better)\n\n")
	fmt.Fprintf(w, "Two processes, one pinging and one echoing, as in the pipe and ring round trips. System V: one queue (IPC_PRIVATE); ping sends type 1 and waits for type 2, and the echo answers each type 1 with a type 2. ")
	fmt.Fprintf(w, "POSIX: two queues (mq_msgsize 64), one each way, mq_timedsend and mq_timedreceive without a deadline. ")
	fmt.Fprintf(w, "Both processes of a row run the same code: C (bench/c/msg.c), cshim or purego (the contract's calls), or the safe API (shmmap.Queue, package posixmq). ")
	fmt.Fprintf(w, "Unlike the pipe and ring rows, both processes run on one CPU, so that every row pays the same two context switches per round trip and not, depending on where the scheduler puts them, the wake-up of an idle CPU; these figures are therefore not comparable with the rows above. ")
	fmt.Fprintf(w, "Go's ends retry a call interrupted by the runtime's signals (EINTR), as any Go caller must.\n\n")
	fmt.Fprintf(w, "| queue | row | median | min–max | × C (median, min–max) |\n|---|---|---|---|---|\n")
	for _, f := range msgFamilies {
		for _, row := range res.row {
			if !strings.HasPrefix(row, f.Family+"/") {
				continue
			}
			ns := res.ns[row]
			lo, hi := ns.minMax()
			r := ratio(ns, res.ns[f.Family+"/C"])
			rlo, rhi := r.minMax()
			fmt.Fprintf(w, "| %s | %s | %s | %s–%s | %.2f× (%.2f–%.2f) |\n", f.Title, strings.TrimPrefix(row, f.Family+"/"), fmtNs(ns.median()), fmtNs(lo), fmtNs(hi), r.median(), rlo, rhi)
		}
		if len(res.ns[f.Family+"/"+f.Safe]) == 0 {
			fmt.Fprintf(w, "| %s | %s | not measured (skipped: `go test -v -bench RoundTrip` says why) | — | — |\n", f.Title, f.Safe)
		}
	}
	writeMsgSpinCost(w, res)
}

// writeMsgSpinCost notes the row Queue-spin and writes
// BenchmarkMsgSpinCost: what shmmap.Queue's spin before blocking costs
// where it does not help.
func writeMsgSpinCost(w *strings.Builder, res *results) {
	const family = "BenchmarkMsgSpinCost"
	if len(res.ns["BenchmarkMsgRoundTrip/Queue-spin"]) > 0 {
		fmt.Fprintf(w, "\nQueue-spin is Queue with SetSpin(QueueSpin): Send and Receive retry a call that would block up to 16 times, each after a sched_yield, before blocking, so that on one CPU the peer answers during a yield and no call blocks. Off by default (see Queue's documentation). No target.\n")
	}
	cpu := res.ext["cpu-ns/wait"]
	if len(cpu[family+"/Queue-spin"]) == 0 {
		return
	}
	fmt.Fprintf(w, "\nWhat the spin costs where it does not help (BenchmarkMsgSpinCost): one process receives 64-byte messages that a goroutine sends every millisecond, so every Receive spins its whole budget and then blocks; CPU time of the process (all threads) per receive, µs.\n\n")
	fmt.Fprintf(w, "| row | median | min–max |\n|---|---|---|\n")
	for _, row := range res.row {
		if !strings.HasPrefix(row, family+"/") {
			continue
		}
		v := cpu[row]
		lo, hi := v.minMax()
		fmt.Fprintf(w, "| %s | %.1f | %.1f–%.1f |\n", strings.TrimPrefix(row, family+"/"), v.median()/1000, lo/1000, hi/1000)
	}
}

// writeMsgCostSection writes BenchmarkMsgBlockingCall: what the Go runtime
// costs per blocking system call, in the System V round trip.
func writeMsgCostSection(w *strings.Builder, res *results) {
	const family = "BenchmarkMsgBlockingCall"
	if len(res.ns[family+"/C"]) == 0 {
		return
	}
	fmt.Fprintf(w, "\n### What a blocking system call costs Go (System V round trip, ns per round trip)\n\n")
	fmt.Fprintf(w, "The System V round trip above, with Go ends that call msgsnd and msgrcv directly (bench/internal/msgbench/cost.go): raw makes every call a raw system call, even those that block, so the scheduler never sees the goroutine leave (sound only in a program with nothing else to run); syscall makes every call through syscall.Syscall (entersyscall and exitsyscall; with GOMAXPROCS 1, sysmon retakes the P of a call blocked across two of its ticks, hands it to another thread, and then wakes every 20µs for a while); purego is the contract's Msgsnd and Msgrcv, which try with IPC_NOWAIT as a raw system call first. syscall-GOMAXPROCS2 is syscall with GOMAXPROCS=2, still on one CPU: sysmon then leaves a P with an empty run queue in a system call alone for 10ms. syscall − raw is the runtime's price of the blocking calls; raw − C is that of the rest of Go's code on the path. No targets.\n\n")
	fmt.Fprintf(w, "| row | median | min–max | × C (median, min–max) |\n|---|---|---|---|\n")
	for _, row := range res.row {
		if !strings.HasPrefix(row, family+"/") {
			continue
		}
		ns := res.ns[row]
		lo, hi := ns.minMax()
		r := ratio(ns, res.ns[family+"/C"])
		rlo, rhi := r.minMax()
		fmt.Fprintf(w, "| %s | %s | %s–%s | %.2f× (%.2f–%.2f) |\n", strings.TrimPrefix(row, family+"/"), fmtNs(ns.median()), fmtNs(lo), fmtNs(hi), r.median(), rlo, rhi)
	}
	const nowait = "BenchmarkMsgNoWait"
	if len(res.ns[nowait+"/C"]) == 0 {
		return
	}
	fmt.Fprintf(w, "\nThe same calls when nothing blocks: msgrcv with IPC_NOWAIT on an empty queue (ENOMSG), in one process, ns per call (BenchmarkMsgNoWait). ")
	fmt.Fprintf(w, "The difference between syscall and raw here is entersyscall and exitsyscall alone, with warm caches and no sysmon.\n\n")
	fmt.Fprintf(w, "| row | median | min–max | × C (median, min–max) |\n|---|---|---|---|\n")
	for _, row := range res.row {
		if !strings.HasPrefix(row, nowait+"/") {
			continue
		}
		ns := res.ns[row]
		lo, hi := ns.minMax()
		r := ratio(ns, res.ns[nowait+"/C"])
		rlo, rhi := r.minMax()
		fmt.Fprintf(w, "| %s | %s | %s–%s | %.2f× (%.2f–%.2f) |\n", strings.TrimPrefix(row, nowait+"/"), fmtNs(ns.median()), fmtNs(lo), fmtNs(hi), r.median(), rlo, rhi)
	}
}
