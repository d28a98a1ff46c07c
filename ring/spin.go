package ring

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// selfPID is this process's pid, as a pid word holds it.
var selfPID = uint32(unix.Getpid())

// spinWait is one turn of a blocked call's tight spin (the loads of
// SetSpin), before the yields and the futex sleep.
//
// A peer in another process runs on its own thread, which the kernel
// schedules on another CPU if there is one: the turn is the CPU's
// spin-wait hint (PAUSE), and the spin sees the peer's store within
// nanoseconds. A peer in this process (its pid word holds our pid) is a
// goroutine, and with as many runnable goroutines as Ps it is likely queued
// for the very P this spin holds: PAUSE would only delay it, by the whole
// spin (64 turns of about 20-40 ns on recent Intel CPUs, per hop of a
// request/response). There the turn is runtime.Gosched, which runs the
// queued goroutines and returns; it costs a few hundred ns when nothing
// else is runnable. (A process in another PID namespace may show our pid
// number; it then spins with Gosched, which is still correct, only a
// little slower to notice.)
func (w *waiter) spinWait() {
	if w.peer.Load() == selfPID {
		runtime.Gosched()
		return
	}
	pause()
}
