package posixmq

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// Spin is how many times, by default, Send, Receive and their Context
// forms retry a call that would wait, each after yielding the CPU, before
// they wait in the poller (see the package documentation, "Spinning before
// waiting"). Queue.SetSpin changes it per queue. It is shmmap.QueueSpin,
// and the number of yielding rounds of package ring's spin.
const Spin = 16

// spinHook, if set (by tests, before the calls they watch start), is
// called after each yield of a spin.
var spinHook func()

// SetSpin sets how many times a Send or Receive on q (or a Context form)
// that would wait retries, each after yielding the CPU, before it waits in
// the poller: 0 waits at once, as before the spin existed, and a negative
// n restores the default, Spin. It affects calls that start afterwards,
// and may be called concurrently with them. It has no effect on a queue
// opened with O_NONBLOCK, whose calls never wait.
func (q *Queue) SetSpin(n int) {
	if n < 0 {
		q.spin.Store(0)
		return
	}
	q.spin.Store(int32(min(n, 1<<30)) + 1)
}

// spins returns the number of yielding retries (see SetSpin).
func (q *Queue) spins() int {
	if v := q.spin.Load(); v > 0 {
		return int(v - 1)
	}
	return Spin
}

// spinYield yields the CPU before retry i (from 0) to other threads and
// processes: the peer that will answer may be waiting for this CPU.
// sched_yield never blocks, so it is a raw system call, which the
// scheduler does not see. With gosched set (GOMAXPROCS is 1: no other P
// can run a goroutine of this process that would answer), it lets this
// process's other goroutines run first, from the second retry on: in the
// round trip between two processes on one CPU the first retry is the one
// that finds the answer, and runtime.Gosched costs about as much as the
// system call. With more Ps it does not: the goroutine it puts on the
// global run queue makes the scheduler wake an idle P's thread, which
// spins looking for work, some 5µs of CPU time each time.
func spinYield(i int, gosched bool) {
	if gosched && i > 0 {
		runtime.Gosched()
	}
	unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
}
