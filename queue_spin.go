package shmmap

import (
	"context"
	"runtime"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// QueueSpin is a spin budget for Queue.SetSpin that suits two processes
// that share one CPU: the number of yielding rounds of package ring's spin
// (ring's spinYields). A Queue does not spin unless SetSpin asks it to
// (see Queue's "Spinning before blocking" for why).
const QueueSpin = 16

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

// A yield that keeps the caller off the CPU for longer than spinLongYield
// means the CPU went to something other than a peer that answers at once:
// another process that wants the CPU (sched_yield hands it a whole time
// slice, milliseconds, while a blocked call would have been woken as soon
// as the answer came) or a peer with work to do, for which a blocking call
// costs little more. The call then stops spinning and blocks, and calls on
// the same *Queue do not spin for spinBackoff (then try again).
const (
	spinLongYield = 500 * time.Microsecond
	spinBackoff   = 100 * time.Millisecond
)

// longYield is spinLongYield; tests that watch a spin raise it, so that a
// loaded machine does not pause the spin under them.
var longYield = spinLongYield

// monoStart is the origin of monotime.
var monoStart = time.Now()

// monotime returns the monotonic clock's time since monoStart, ns.
func monotime() time.Duration { return time.Since(monoStart) }

// spinPaused reports whether a long yield has paused q's spinning.
func (q *Queue) spinPaused() bool {
	off := q.spinOff.Load()
	return off != 0 && monotime() < time.Duration(off)
}

// spinHook, if set (by tests, before the calls they watch start), is
// called after each yield of a spin.
var spinHook func()

// SetSpin sets how many times a call on q that would block retries, each
// after yielding the CPU, before it blocks in the kernel (see Queue,
// "Spinning before blocking"): 0 or a negative n, the default, blocks at
// once; QueueSpin suits a peer on the same CPU. It affects calls that
// start afterwards, through this *Queue value only, and may be called
// concurrently with them.
func (q *Queue) SetSpin(n int) { q.spin.Store(int32(min(max(n, 0), 1<<30))) }

// spins returns the number of yielding retries (see SetSpin).
func (q *Queue) spins() int { return int(q.spin.Load()) }

// spinTry makes call with IPC_NOWAIT up to 1+spins times, yielding the
// CPU between attempts, while it fails with busy (the errno of a call that
// would block) and ctx is not done. It reports whether the call is over:
// err is then its result (nil, a *QueueError for op, or ctx.Err() if ctx
// ended during the spin); otherwise the caller must block.
//
// Every attempt is the kernel's own IPC_NOWAIT call, so a message is taken
// only by an attempt that succeeds, and msgtyp, MSG_EXCEPT and MSG_NOERROR
// select and truncate exactly as in the blocking call. The queue may be
// removed between two attempts: the next then fails with EINVAL (its id no
// longer names a queue) where a caller blocked in the kernel would have
// failed with EIDRM, so EINVAL after a busy attempt is reported as EIDRM
// (the arguments were already accepted by that attempt).
func (q *Queue) spinTry(ctx context.Context, op string, spins int, busy syscall.Errno, call func(flag int) error) (done bool, err error) {
	gosched := false
	for i := 0; ; i++ {
		err = call(unix.IPC_NOWAIT)
		if err == syscall.EINTR {
			continue // an IPC_NOWAIT call does not sleep; a safeguard
		}
		if err != busy {
			if i > 0 {
				err = removed(err)
			}
			return true, q.wrap(op, err)
		}
		if i >= spins {
			return false, nil
		}
		if i == 0 {
			gosched = runtime.GOMAXPROCS(0) == 1
		}
		t := monotime()
		spinYield(i, gosched)
		if spinHook != nil {
			spinHook()
		}
		if err := ctx.Err(); err != nil {
			return true, err
		}
		if now := monotime(); now-t > longYield {
			// The CPU went to something other than a quick peer: stop
			// spinning on q for a while, and block.
			q.spinOff.Store(int64(now + spinBackoff))
			return false, nil
		}
	}
}

// removed turns EINVAL, from a call made after one that found the queue
// busy (and so accepted the arguments), into EIDRM: the queue was removed
// in between, which a caller blocked in the kernel sees as EIDRM.
func removed(err error) error {
	if err == syscall.EINVAL {
		return syscall.EIDRM
	}
	return err
}
