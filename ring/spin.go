package ring

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// selfPID is this process's pid, as a pid word holds it.
var selfPID = uint32(unix.Getpid())

// spinWait is one turn of a blocked call's spin before the futex sleep:
// one of the loads turns of SetSpin, or (yieldTurn) one of its yields.
//
// A peer in another process runs on its own thread, which the kernel
// schedules on another CPU if there is one: a load turn is the CPU's
// spin-wait hint (PAUSE), so that the spin sees the peer's store within
// nanoseconds, and a yield turn lets other goroutines, then other threads
// and processes run (the peer may be waiting for this CPU).
//
// A peer in this process (its pid word holds our pid) is a goroutine, and
// with as many runnable goroutines as Ps it is likely queued for the very
// P this spin holds. Every turn is then runtime.Gosched, which runs the
// queued goroutines and returns (a few hundred ns when nothing else is
// runnable): PAUSE would delay the peer by the whole spin, and
// sched_yield, while this thread holds the P, hands the CPU to other
// processes and leaves the goroutines queued on the P waiting for as long
// as they run. (In-process request/response, BenchmarkPingPong in bench/:
// at 100 B about 2 µs per round trip against 7 µs with PAUSE and up to
// 17 µs with sched_yield on a loaded machine.) A process in another PID
// namespace may show our pid number; it then gets Gosched turns, which
// are still correct, only slower to notice its store.
func (w *waiter) spinWait(yieldTurn bool) {
	switch {
	case w.peer.Load() == selfPID:
		runtime.Gosched()
	case yieldTurn:
		yield()
	default:
		pause()
	}
}
