package bench

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/impls"
	"github.com/shmmap/shmmap/purego"
	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// msgSize is the message-queue round trips' message size, that of the
// ring and pipe round trips.
const msgSize = 64

// msgRow is one row of the message-queue round trips: its name and the
// implementation both processes run ("C" for c/msg.c; otherwise the first
// argument of internal/msgbench).
// Env, if set, is added to both processes' environment.
type msgRow struct{ Name, Impl, Env string }

// msgRows are the rows of a message-queue round trip: C, each
// implementation of the contract built into this binary, and the safe API
// (internal/msgbench's "safe") under the name safe. Both processes of a
// row run the same implementation, as both run C in the C row.
func msgRows(safe string) []msgRow {
	rows := []msgRow{{"C", "C", ""}}
	for _, sys := range impls.All() {
		rows = append(rows, msgRow{sys.Name, sys.Name, ""})
	}
	return append(rows, msgRow{safe, "safe", ""})
}

// withEnv adds env, if set, to the environment of the commands.
func withEnv(env string, cmds ...*exec.Cmd) {
	if env == "" {
		return
	}
	for _, c := range cmds {
		c.Env = append(os.Environ(), env)
	}
}

// BenchmarkMsgRoundTrip: a 64-byte System V message there and back between
// two processes, per round trip, on one queue (msgget(IPC_PRIVATE)): the
// pinging process sends type 1 and waits in msgrcv for type 2; the other
// answers each type 1 with a type 2 of the same bytes. Rows: C (c/msg.c),
// cshim and purego (Msgsnd and Msgrcv of the contract) and the safe API
// (row Queue: shmmap.Queue's Send and Receive), in both processes alike.
//
// Row Queue-spin is the safe API with SetSpin(shmmap.QueueSpin)
// (MSGBENCH_SPIN=16): a bounded spin before blocking; no target.
func BenchmarkMsgRoundTrip(b *testing.B) {
	rows := append(msgRows("Queue"), msgRow{"Queue-spin", "safe", fmt.Sprintf("MSGBENCH_SPIN=%d", shmmap.QueueSpin)})
	for _, row := range rows {
		b.Run(row.Name, func(b *testing.B) {
			requireMsgImpl(b, row.Impl, "sysv")
			id := sysvQueue(b)
			args := []string{strconv.Itoa(id), strconv.Itoa(msgSize), strconv.Itoa(b.N)}
			ping := msgEndpoint(b, row.Impl, "sysv", "ping", args...)
			pong := msgEndpoint(b, row.Impl, "sysv", "pong", args...)
			withEnv(row.Env, ping, pong)
			b.ReportMetric(runPingPong(b, ping, pong), "ns/op")
		})
	}
}

// BenchmarkMqRoundTrip: a 64-byte POSIX message there and back between two
// processes, per round trip, on two queues (mq_msgsize 64, one each way)
// with names unique to the run: mq_timedsend and mq_timedreceive with no
// deadline. Rows: C (c/msg.c: mq_send and mq_receive, the same calls),
// cshim and purego (MqTimedsend and MqTimedreceive of the contract) and the
// safe API (row posixmq: package posixmq's Send and Receive), in both
// processes alike.
func BenchmarkMqRoundTrip(b *testing.B) {
	for _, row := range msgRows("posixmq") {
		b.Run(row.Name, func(b *testing.B) {
			requireMsgImpl(b, row.Impl, "mq")
			to, from := posixQueue(b), posixQueue(b)
			args := []string{to, from, strconv.Itoa(msgSize), strconv.Itoa(b.N)}
			ping := msgEndpoint(b, row.Impl, "mq", "ping", args...)
			pong := msgEndpoint(b, row.Impl, "mq", "pong", args...)
			withEnv(row.Env, ping, pong)
			b.ReportMetric(runPingPong(b, ping, pong), "ns/op")
		})
	}
}

// BenchmarkMsgBlockingCall measures what the Go runtime costs per system
// call that blocks, with the System V round trip of BenchmarkMsgRoundTrip
// (64 bytes, both processes on one CPU, so GOMAXPROCS is 1) and Go ends
// that make msgsnd and msgrcv directly, always in the same way
// (internal/msgbench/cost.go): rows C (c/msg.c), raw (every call a raw
// system call, blocking or not: the scheduler never sees the goroutine
// leave; sound only in a program with nothing else to run), syscall
// (every call through syscall.Syscall: entersyscall and exitsyscall, and
// sysmon retaking the P of a call blocked across two of its ticks), and
// purego (the contract's Msgsnd and Msgrcv: a raw IPC_NOWAIT attempt, then
// syscall.Syscall only if the call must wait). The row syscall-GOMAXPROCS2
// is syscall with GOMAXPROCS=2 in both processes, still on one CPU: with
// an idle P, sysmon leaves a P in a system call alone for 10ms instead of
// one tick, which isolates the retaking's share. No targets: syscall − raw
// is the runtime's price of the blocking calls, raw − C that of the rest
// of Go's code on the path.
func BenchmarkMsgBlockingCall(b *testing.B) {
	rows := []struct{ name, impl, env string }{
		{"C", "C", ""},
		{"raw", "raw", ""},
		{"syscall", "syscall", ""},
		{"syscall-GOMAXPROCS2", "syscall", "GOMAXPROCS=2"},
		{"purego", "purego", ""},
	}
	for _, row := range rows {
		b.Run(row.name, func(b *testing.B) {
			requireMsgImpl(b, row.impl, "sysv")
			id := sysvQueue(b)
			args := []string{strconv.Itoa(id), strconv.Itoa(msgSize), strconv.Itoa(b.N)}
			ping := msgEndpoint(b, row.impl, "sysv", "ping", args...)
			pong := msgEndpoint(b, row.impl, "sysv", "pong", args...)
			if row.env != "" {
				ping.Env = append(os.Environ(), row.env)
				pong.Env = ping.Env
			}
			b.ReportMetric(runPingPong(b, ping, pong), "ns/op")
		})
	}
}

// BenchmarkMsgNoWait measures the other half of what a system call costs
// Go, the part paid even when nothing blocks: msgrcv with IPC_NOWAIT on an
// empty queue (ENOMSG), in one process. Rows: C (c/msg.c nowait), raw
// (unix.RawSyscall6), syscall (unix.Syscall6: entersyscall and
// exitsyscall around the same call) and purego (the contract's Msgrcv,
// which makes an IPC_NOWAIT call as a raw system call). No targets.
func BenchmarkMsgNoWait(b *testing.B) {
	b.Run("C", func(b *testing.B) { cBench(b, 100000, "msg", "nowait") })
	var m struct {
		mtype int
		text  [64]byte
	}
	calls := []struct {
		name string
		call func(id int) unix.Errno
	}{
		{"raw", func(id int) unix.Errno {
			_, _, e := unix.RawSyscall6(unix.SYS_MSGRCV, uintptr(id), uintptr(unsafe.Pointer(&m)), 64, 0, unix.IPC_NOWAIT, 0)
			return e
		}},
		{"syscall", func(id int) unix.Errno {
			_, _, e := unix.Syscall6(unix.SYS_MSGRCV, uintptr(id), uintptr(unsafe.Pointer(&m)), 64, 0, unix.IPC_NOWAIT, 0)
			return e
		}},
		{"purego", func(id int) unix.Errno {
			_, _, err := purego.Msgrcv(id, m.text[:], 0, unix.IPC_NOWAIT)
			e, _ := err.(unix.Errno)
			return e
		}},
	}
	for _, c := range calls {
		b.Run(c.name, func(b *testing.B) {
			id := sysvQueue(b)
			for b.Loop() {
				if e := c.call(id); e != unix.ENOMSG {
					b.Fatalf("msgrcv IPC_NOWAIT on an empty queue: %v, want ENOMSG", e)
				}
			}
		})
	}
}

// msgEndpoint returns the command for one end of a message-queue round
// trip: c/msg.c for impl "C", internal/msgbench otherwise.
func msgEndpoint(b *testing.B, impl, kind, mode string, args ...string) *exec.Cmd {
	if impl == "C" {
		return exec.Command(cProgram(b, "msg"), append([]string{kind, mode}, args...)...)
	}
	return exec.Command(goProgram(b, "msgbench"), append([]string{impl, kind, mode}, args...)...)
}

// probed caches requireMsgImpl's answers: "" where the implementation runs,
// the helper's reason where it does not.
var probed sync.Map // "impl kind" -> string

// requireMsgImpl skips the row, with the helper's reason, if
// internal/msgbench cannot run impl for kind (its probe says so).
func requireMsgImpl(b *testing.B, impl, kind string) {
	b.Helper()
	if impl == "C" {
		return
	}
	key := impl + " " + kind
	why, ok := probed.Load(key)
	if !ok {
		out, err := exec.Command(goProgram(b, "msgbench"), impl, kind, "probe").Output()
		var exit *exec.ExitError
		switch {
		case err == nil:
			why = ""
		case asExit(err, &exit) && exit.ExitCode() == 3:
			why = strings.TrimSpace(string(out))
		default:
			b.Fatalf("msgbench %s: %v (%s)", key, err, out)
		}
		probed.Store(key, why)
	}
	if why != "" {
		b.Skipf("msgbench %s: %s", key, why)
	}
}

func asExit(err error, exit **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	*exit = e
	return ok
}

// sysvQueue creates a System V queue with IPC_PRIVATE (so no key can
// collide with another test's) and removes it when the benchmark ends,
// whatever its processes did.
func sysvQueue(b *testing.B) int {
	id, err := purego.Msgget(unix.IPC_PRIVATE, unix.IPC_CREAT|0o600)
	mustf(b, err, "msgget(IPC_PRIVATE)")
	b.Cleanup(func() {
		if _, err := purego.Msgctl(id, unix.IPC_RMID, nil); err != nil {
			b.Errorf("msgctl(%d, IPC_RMID): %v", id, err)
		}
	})
	return id
}

// posixQueues counts the POSIX queues made by this process, to name them.
var posixQueues atomic.Int64

// posixQueue creates a POSIX queue of 64-byte messages under a name unique
// to this process and returns the name; the queue is unlinked when the
// benchmark ends, whatever its processes did.
func posixQueue(b *testing.B) string {
	name := fmt.Sprintf("/shmmap-bench-%d-%d", os.Getpid(), posixQueues.Add(1))
	mqd, err := purego.MqOpen(name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, 0o600, &sysapi.MqAttr{Maxmsg: 8, Msgsize: msgSize})
	mustf(b, err, "mq_open %s", name)
	mustf(b, purego.Close(mqd), "close %s", name)
	b.Cleanup(func() {
		if err := purego.MqUnlink(name); err != nil {
			b.Errorf("mq_unlink %s: %v", name, err)
		}
	})
	return name
}

// runPingPong runs ping (which prints ns per round trip) and pong to
// completion, both on one CPU (see startOnOneCPU), and returns what ping
// printed. A queue does not tell one end that the other died, so if either
// fails, the other is killed rather than left waiting forever.
func runPingPong(b *testing.B, ping, pong *exec.Cmd) float64 {
	b.Helper()
	var out, errPing, errPong strings.Builder
	ping.Stdout, ping.Stderr, pong.Stderr = &out, &errPing, &errPong
	startOnOneCPU(b, ping, pong)
	type exit struct {
		cmd *exec.Cmd
		err error
	}
	done := make(chan exit, 2)
	for _, c := range []*exec.Cmd{ping, pong} {
		go func() { done <- exit{c, c.Wait()} }()
	}
	var failed []string
	for range 2 {
		e := <-done
		if e.err != nil {
			failed = append(failed, fmt.Sprintf("%v: %v", e.cmd.Args, e.err))
			ping.Process.Kill() // no-ops on a process already reaped
			pong.Process.Kill()
		}
	}
	if len(failed) > 0 {
		b.Fatalf("%s\nping's stderr: %s\npong's stderr: %s", strings.Join(failed, "; "), errPing.String(), errPong.String())
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(out.String()), 64)
	mustf(b, err, "%v printed %q", ping.Args, out.String())
	return v
}

// startOnOneCPU starts the commands with their CPU affinity set to one CPU,
// the same for all: the last this process may use.
//
// Both ends of a message-queue round trip run on one CPU, in every row,
// because otherwise the placement decides the figure, not the calls: on a
// small virtual machine, waking a process on another, idle CPU costs tens
// of microseconds (the same C ping-pong measures 3 µs or 85 µs per round
// trip from run to run, depending on where the scheduler puts the two
// processes), while a Go process keeps threads spinning and its CPU out of
// idle. On one CPU every row pays the same two context switches per round
// trip, and what differs is the cost of the calls themselves. (The Go ends
// see one CPU, so their GOMAXPROCS is 1. That is the hardest case for Go's
// blocking system calls: with no idle P, the runtime's sysmon retakes the
// P of a call blocked across two of its ticks, hands it to another thread,
// and then wakes every 20µs for a millisecond or more, each time on the
// CPU both ends share; BenchmarkMsgBlockingCall measures what that costs.
// The other shapes measure less: with the ends on two CPUs of a small
// virtual machine every row, C's included, takes 110–135µs per round trip
// (the wake-up of the other CPU), and unpinned, C's figure varies several
// times over from run to run.)
//
// A child inherits the affinity of the thread that forks it, so the
// goroutine locks its thread, narrows the thread's affinity, starts the
// commands and restores it. If a command fails to start, those already
// started are killed and the benchmark fails.
func startOnOneCPU(b *testing.B, cmds ...*exec.Cmd) {
	b.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old unix.CPUSet
	mustf(b, unix.SchedGetaffinity(0, &old), "sched_getaffinity")
	cpu := -1
	for i := range len(old) * 64 {
		if old.IsSet(i) {
			cpu = i
		}
	}
	if cpu < 0 {
		b.Fatalf("sched_getaffinity: no CPU in the mask")
	}
	var one unix.CPUSet
	one.Set(cpu)
	mustf(b, unix.SchedSetaffinity(0, &one), "sched_setaffinity(CPU %d)", cpu)
	defer func() { mustf(b, unix.SchedSetaffinity(0, &old), "sched_setaffinity (restore)") }()
	for i, c := range cmds {
		if err := c.Start(); err != nil {
			for _, started := range cmds[:i] {
				started.Process.Kill()
				started.Wait()
			}
			b.Fatalf("start %v: %v", c.Args, err)
		}
	}
}

// BenchmarkMsgSpinCost measures what shmmap.Queue's spin before blocking
// (SetSpin(QueueSpin)) costs where it does not help: a peer that answers only after
// about a millisecond, so that every receive spins its whole budget and
// then blocks. One process: a goroutine sends a 64-byte message every
// millisecond (time.Sleep: the slow peer), and the benchmark receives
// them. It reports cpu-ns/wait, the process's CPU time
// (CLOCK_PROCESS_CPUTIME_ID: all its threads, user and system) per
// receive, with SetSpin(QueueSpin) (row Queue-spin) and without (the
// default, row Queue); the difference between the two is the spin's cost
// per wait. Run with -benchtime 300x or so: each op takes a millisecond.
func BenchmarkMsgSpinCost(b *testing.B) {
	for _, spin := range []int{shmmap.QueueSpin, 0} {
		name := "Queue"
		if spin > 0 {
			name = "Queue-spin"
		}
		b.Run(name, func(b *testing.B) {
			q, err := shmmap.OpenQueueID(sysvQueue(b))
			mustf(b, err, "OpenQueueID")
			q.SetSpin(spin)
			spinCost(b, func(msg []byte) error { return q.Send(1, msg) }, func(buf []byte) error {
				_, _, err := q.Receive(buf, 1)
				return err
			})
		})
	}
}

// spinCost runs BenchmarkMsgSpinCost's loop with send and receive.
func spinCost(b *testing.B, send func([]byte) error, receive func([]byte) error) {
	sent := make(chan error, 1)
	b.ResetTimer()
	var before, after unix.Timespec
	mustf(b, unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &before), "clock_gettime")
	go func() {
		msg := make([]byte, msgSize)
		for range b.N {
			time.Sleep(time.Millisecond) // the slow peer
			if err := send(msg); err != nil {
				sent <- err
				return
			}
		}
		sent <- nil
	}()
	buf := make([]byte, msgSize)
	for range b.N {
		if err := receive(buf); err != nil {
			b.Fatalf("receive: %v", err)
		}
	}
	mustf(b, <-sent, "send")
	mustf(b, unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &after), "clock_gettime")
	b.ReportMetric(float64(after.Nano()-before.Nano())/float64(b.N), "cpu-ns/wait")
}
