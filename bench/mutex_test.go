package bench

import (
	"fmt"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/shmmap/shmmap/pthread"
	"github.com/shmmap/shmmap/purego"
	"github.com/shmmap/shmmap/shmtest"
	"golang.org/x/sys/unix"
)

// mutexKinds are the mutexes of the pthread rows: process-shared,
// PTHREAD_MUTEX_NORMAL, and the same made robust.
var mutexKinds = []struct {
	Name   string
	Robust bool
}{{"normal", false}, {"robust", true}}

// BenchmarkMutexUncontended: pthread_mutex_lock+pthread_mutex_unlock in one
// thread on a process-shared mutex (type PTHREAD_MUTEX_NORMAL, robust or
// not) in a MAP_SHARED anonymous mapping, per lock+unlock, after 1000
// untimed rounds. Rows: C (glibc, c/mutex.c); Go (package pthread's Lock
// and Unlock in internal/mutexbench, a program without cgo, as the
// hand-off's Go processes); Go-Thread (the same program with LockOn and
// UnlockOn and the main goroutine's pthread.Thread, which knows its thread
// id and robust list head, where Lock and Unlock ask the kernel);
// Go-cgo (the Lock loop in this test process, which links cgo through
// package impls, so that its threads have glibc's robust list heads,
// which package pthread uses and cannot take a thread id from); and
// Go-cgo-Thread (the LockOn loop there, with glibc's head).
func BenchmarkMutexUncontended(b *testing.B) {
	for _, k := range mutexKinds {
		b.Run(k.Name+"/C", func(b *testing.B) { cBench(b, 10000, "mutex", "uncontended", k.Name) })
		for _, row := range []struct{ name, arg string }{{"Go", ""}, {"Go-Thread", "thread"}} {
			b.Run(k.Name+"/"+row.name, func(b *testing.B) {
				args := []string{"uncontended", strconv.Itoa(max(b.N, 10000)), k.Name}
				if row.arg != "" {
					args = append(args, row.arg)
				}
				out, err := exec.Command(mutexbench(b), args...).Output()
				if err != nil {
					b.Fatalf("mutexbench %v: %v", args, err)
				}
				ns, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
				mustf(b, err, "mutexbench printed %q", out)
				b.ReportMetric(ns, "ns/op")
			})
		}
		b.Run(k.Name+"/Go-cgo", func(b *testing.B) {
			mem, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANONYMOUS)
			mustf(b, err, "mmap")
			b.Cleanup(func() { unix.Munmap(mem) })
			m, err := pthread.InitMutex(mem, pthread.MutexAttr{Type: pthread.MutexNormal, Robust: k.Robust})
			mustf(b, err, "InitMutex")
			for range 1000 { // as the C program's untimed rounds
				mustf(b, m.Lock(), "Lock")
				mustf(b, m.Unlock(), "Unlock")
			}
			for b.Loop() {
				if err := m.Lock(); err != nil {
					b.Fatalf("Lock: %v", err)
				}
				if err := m.Unlock(); err != nil {
					b.Fatalf("Unlock: %v", err)
				}
			}
		})
		b.Run(k.Name+"/Go-cgo-Thread", func(b *testing.B) {
			mem, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANONYMOUS)
			mustf(b, err, "mmap")
			b.Cleanup(func() { unix.Munmap(mem) })
			m, err := pthread.InitMutex(mem, pthread.MutexAttr{Type: pthread.MutexNormal, Robust: k.Robust})
			mustf(b, err, "InitMutex")
			th := pthread.Self()
			defer func() { mustf(b, th.Release(), "Release") }()
			for range 1000 {
				mustf(b, m.LockOn(th), "LockOn")
				mustf(b, m.UnlockOn(th), "UnlockOn")
			}
			for b.Loop() {
				if err := m.LockOn(th); err != nil {
					b.Fatalf("LockOn: %v", err)
				}
				if err := m.UnlockOn(th); err != nil {
					b.Fatalf("UnlockOn: %v", err)
				}
			}
		})
	}
}

// mutexbench returns internal/mutexbench, built with CGO_ENABLED=0 (once
// per test binary), with the timer stopped as cProgram does.
func mutexbench(b *testing.B) string {
	b.Helper()
	b.StopTimer()
	defer b.StartTimer()
	return shmtest.BuildGo(b, "./internal/mutexbench", "CGO_ENABLED=0")
}

// handoffEnds are the rows of the hand-off: the language of each of its
// two processes (Go-Thread: internal/mutexbench with LockOn and UnlockOn
// and a pthread.Thread).
var handoffEnds = []struct {
	Name string
	Ends [2]string
}{
	{"C", [2]string{"C", "C"}},
	{"Go", [2]string{"Go", "Go"}},
	{"Go-Thread", [2]string{"Go-Thread", "Go-Thread"}},
	{"C-Go", [2]string{"C", "Go"}},
}

// BenchmarkMutexHandoff: one mutex contended by two processes. Each
// process (c/mutex.c's handoff, or internal/mutexbench with package
// pthread, built without cgo) announces itself in the segment and waits for the other, then
// makes b.N rounds of lock, a plain increment of a counter next to the
// mutex, and unlock, timing itself from that barrier to the end of its
// loop. The figure is the longer of the two times divided by the 2·b.N
// rounds: the time per lock+unlock while both processes want the mutex,
// which moves between them whenever the waiter gets it (on wake-up from
// the futex, or by finding it free). The two processes run on two
// different CPUs (see startOnTwoCPUs). The mutex is made by
// pthread_mutex_init (type PTHREAD_MUTEX_NORMAL, process-shared, robust or
// not) in a System V segment of the benchmark's (IPC_PRIVATE, removed at
// the end); the counter must be 2·b.N afterwards. Rows: both processes C,
// both Go, both Go with LockOn and UnlockOn and a pthread.Thread
// (Go-Thread), and one of each (C-Go).
func BenchmarkMutexHandoff(b *testing.B) {
	for _, k := range mutexKinds {
		for _, row := range handoffEnds {
			b.Run(k.Name+"/"+row.Name, func(b *testing.B) {
				id, mem := handoffSegment(b)
				if out, err := exec.Command(cProgram(b, "mutex"), "init", k.Name, strconv.Itoa(id)).CombinedOutput(); err != nil {
					b.Fatalf("mutex init: %v (%s)", err, out)
				}
				if _, err := pthread.MutexAt(mem); err != nil {
					b.Fatalf("the C-initialised mutex: %v", err)
				}
				var cmds [2]*exec.Cmd
				for i, lang := range row.Ends {
					switch lang {
					case "C":
						cmds[i] = exec.Command(cProgram(b, "mutex"), "handoff", strconv.Itoa(id), strconv.Itoa(b.N))
					case "Go":
						cmds[i] = exec.Command(mutexbench(b), "handoff", strconv.Itoa(id), strconv.Itoa(b.N))
					default:
						cmds[i] = exec.Command(mutexbench(b), "handoff", strconv.Itoa(id), strconv.Itoa(b.N), "thread")
					}
				}
				ns := runHandoff(b, cmds)
				if ready := atomic.LoadInt32((*int32)(unsafe.Pointer(&mem[handoffReady]))); ready != 2 {
					b.Fatalf("ready word %d after the hand-off: want 2 (both processes passed the barrier)", ready)
				}
				if got := atomic.LoadUint64((*uint64)(unsafe.Pointer(&mem[handoffCounter]))); got != 2*uint64(b.N) {
					b.Fatalf("counter %d after 2×%d rounds under the mutex: lost updates", got, b.N)
				}
				b.ReportMetric(ns/float64(2*b.N), "ns/op")
			})
		}
	}
}

// The offsets in the hand-off segment, as in c/mutex.c and
// internal/mutexbench: the mutex at 0, the counter at 64, the ready word at
// 128.
const (
	handoffCounter = 64
	handoffReady   = 128
)

// handoffSegment creates a one-page System V segment with IPC_PRIVATE,
// attaches it, and detaches and removes it when the benchmark ends,
// whatever its processes did.
func handoffSegment(b *testing.B) (int, []byte) {
	id, err := purego.Shmget(unix.IPC_PRIVATE, 4096, unix.IPC_CREAT|0o600)
	mustf(b, err, "shmget(IPC_PRIVATE)")
	b.Cleanup(func() {
		if _, err := purego.Shmctl(id, unix.IPC_RMID, nil); err != nil {
			b.Errorf("shmctl(%d, IPC_RMID): %v", id, err)
		}
	})
	mem, err := unix.SysvShmAttach(id, 0, 0)
	mustf(b, err, "shmat %d", id)
	b.Cleanup(func() {
		if err := unix.SysvShmDetach(mem); err != nil {
			b.Errorf("shmdt: %v", err)
		}
	})
	return id, mem
}

// startOnTwoCPUs starts the commands, the first with its CPU affinity set
// to the first CPU this process may use and the second to the last, so
// that the two run at the same time and contend for the mutex (left to
// the scheduler, two processes started together often share a CPU, and
// then take turns by time slices rather than contend). The benchmark is
// skipped with fewer than two CPUs.
func startOnTwoCPUs(b *testing.B, cmds [2]*exec.Cmd) {
	b.Helper()
	if !startApart(b, cmds) {
		b.Skip("the hand-off needs two CPUs")
	}
}

// startApart starts the commands as startOnTwoCPUs describes and reports
// true, or, if this process may use only one CPU, starts nothing and
// reports false. As in startOnOneCPU, the goroutine locks its thread and
// narrows that thread's affinity for each start, since a child inherits
// it, and restores it; if the second command fails to start, the first is
// killed and the benchmark fails.
func startApart(b *testing.B, cmds [2]*exec.Cmd) bool {
	b.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old unix.CPUSet
	mustf(b, unix.SchedGetaffinity(0, &old), "sched_getaffinity")
	var cpus []int
	for i := range len(old) * 64 {
		if old.IsSet(i) {
			cpus = append(cpus, i)
		}
	}
	if len(cpus) < 2 {
		return false
	}
	defer func() { mustf(b, unix.SchedSetaffinity(0, &old), "sched_setaffinity (restore)") }()
	for i, cpu := range []int{cpus[0], cpus[len(cpus)-1]} {
		var one unix.CPUSet
		one.Set(cpu)
		mustf(b, unix.SchedSetaffinity(0, &one), "sched_setaffinity(CPU %d)", cpu)
		if err := cmds[i].Start(); err != nil {
			if i == 1 {
				cmds[0].Process.Kill()
				cmds[0].Wait()
			}
			b.Fatalf("start %v: %v", cmds[i].Args, err)
		}
	}
	return true
}

// runHandoff runs the two processes of a hand-off to completion and
// returns the longer of the times they printed. If either fails, the other
// is killed rather than left waiting at the barrier or on the mutex.
func runHandoff(b *testing.B, cmds [2]*exec.Cmd) float64 {
	b.Helper()
	var outs, errs [2]strings.Builder
	for i, c := range cmds {
		c.Stdout, c.Stderr = &outs[i], &errs[i]
	}
	startOnTwoCPUs(b, cmds)
	done := make(chan error, 2)
	for i, c := range cmds {
		go func() {
			err := c.Wait()
			if err != nil {
				err = fmt.Errorf("%v: %v (stderr: %s)", c.Args, err, strings.TrimSpace(errs[i].String()))
			}
			done <- err
		}()
	}
	var failed []string
	for range 2 {
		if err := <-done; err != nil {
			failed = append(failed, err.Error())
			cmds[0].Process.Kill() // no-ops on a process already reaped
			cmds[1].Process.Kill()
		}
	}
	if len(failed) > 0 {
		b.Fatalf("hand-off: %s", strings.Join(failed, "; "))
	}
	var longest float64
	for i, c := range cmds {
		v, err := strconv.ParseFloat(strings.TrimSpace(outs[i].String()), 64)
		mustf(b, err, "%v printed %q", c.Args, outs[i].String())
		longest = max(longest, v)
	}
	return longest
}
