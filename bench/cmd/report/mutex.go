package main

import (
	"fmt"
	"strings"
)

// The pthread mutex rows: BenchmarkMutexUncontended and
// BenchmarkMutexHandoff, each for a normal and a robust mutex (the first
// part of the sub-benchmark's name), rows C and Go, then Go-cgo for the
// uncontended loop and C-Go for the hand-off.
var mutexFamilies = []struct{ Family, Title string }{
	{"BenchmarkMutexUncontended", "uncontended lock+unlock"},
	{"BenchmarkMutexHandoff", "contended hand-off, two processes"},
}

var mutexKinds = []string{"normal", "robust"}

// mutexTargets: package pthread within 20% of glibc, per row.
func mutexTargets() []target {
	var ts []target
	for _, f := range mutexFamilies {
		for _, k := range mutexKinds {
			ts = append(ts, target{Name: "pthread Go ≤ 1.2× C", Row: f.Family + "/" + k + "/Go", Base: f.Family + "/" + k + "/C", Max: 1.2})
			ts = append(ts, target{Name: "pthread Go-Thread ≤ 1.2× C", Row: f.Family + "/" + k + "/Go-Thread", Base: f.Family + "/" + k + "/C", Max: 1.2})
		}
	}
	return ts
}

func writeMutexSection(w *strings.Builder, res *results) {
	fmt.Fprintf(w, "\n## pthread mutexes: glibc and package pthread (ns per lock+unlock, lower is better)\n\n")
	fmt.Fprintf(w, "A process-shared mutex of type PTHREAD_MUTEX_NORMAL, robust or not, in shared memory. C is glibc's pthread_mutex_lock and pthread_mutex_unlock (bench/c/mutex.c); Go is package pthread's Lock and Unlock in a program without cgo (bench/internal/mutexbench). ")
	fmt.Fprintf(w, "Uncontended: one thread locks and unlocks the mutex (in a MAP_SHARED anonymous mapping) in a loop; row Go-cgo runs the Go loop in the benchmark's own process, which links cgo, so that its threads have glibc's robust list heads, into which package pthread links its robust mutexes. ")
	fmt.Fprintf(w, "Hand-off: two processes, on two different CPUs, each pass a barrier in the segment and then make N rounds of lock, increment a shared counter, unlock, on one mutex made by pthread_mutex_init in a System V segment; the figure is the longer of their two loop times over the 2N rounds, and the counter must be 2N. ")
	fmt.Fprintf(w, "Rows: both processes C, both Go, or one of each (C-Go). Go-Thread is Go with LockOn and UnlockOn and the goroutine's pthread.Thread (pthread.Self), which knows its thread id and robust list head, where Lock and Unlock ask the kernel (gettid, get_robust_list) for a robust mutex. The targets compare the rows Go and Go-Thread with C.\n\n")
	fmt.Fprintf(w, "| benchmark | mutex | row | median | min–max | × C (median, min–max) |\n|---|---|---|---|---|---|\n")
	for _, f := range mutexFamilies {
		for _, k := range mutexKinds {
			prefix := f.Family + "/" + k + "/"
			for _, row := range res.row {
				if !strings.HasPrefix(row, prefix) {
					continue
				}
				ns := res.ns[row]
				lo, hi := ns.minMax()
				r := ratio(ns, res.ns[prefix+"C"])
				rlo, rhi := r.minMax()
				fmt.Fprintf(w, "| %s | %s | %s | %s | %s–%s | %.2f× (%.2f–%.2f) |\n", f.Title, k, strings.TrimPrefix(row, prefix), fmtNs(ns.median()), fmtNs(lo), fmtNs(hi), r.median(), rlo, rhi)
			}
		}
	}
}
