package futexwait

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Forever is the timeout of a wait without a time limit.
const Forever time.Duration = -1

// The mechanisms, as SHMMAP_FUTEXWAIT names them and Mechanism reports them.
const (
	IOURing = "iouring" // IORING_OP_FUTEX_WAIT, completions through the netpoller
	Waitv   = "waitv"   // futex_waitv worker threads, 127 words each
	Thread  = "thread"  // the futex system call in the waiting goroutine's thread
)

// mux is a multiplexer of waits: io_uring or the futex_waitv workers.
type mux interface {
	// arm registers a wait on addr while it holds val; its result
	// arrives on the op's done channel.
	arm(addr *uint32, val uint32, flags Flags) (*op, error)
	// cancel ends a wait; its result still arrives on done.
	cancel(o *op)
	// release recycles an op whose result has been received.
	release(o *op)
	armed(addr uintptr) int
	inFlight() int64
}

// EnvMechanism is the environment variable that forces a mechanism:
// "iouring", "waitv" or "thread"; unset, empty or "auto" picks the best
// available, in that order. A forced mechanism the machine lacks falls back
// as the automatic choice does (iouring to waitv to thread).
const EnvMechanism = "SHMMAP_FUTEXWAIT"

// EnvDirect is the environment variable that sets how many goroutines may
// wait in their own thread at once while the multiplexer is in use
// (default DefaultDirect; 0 sends every wait to the multiplexer).
const EnvDirect = "SHMMAP_FUTEXWAIT_DIRECT"

// DefaultDirect is the default number of direct waits (see EnvDirect).
const DefaultDirect = 2

// DirectFor is how long a direct wait sleeps in its thread before it hands
// over to the multiplexer.
const DirectFor = time.Millisecond

var (
	initOnce  sync.Once
	mechanism string
	whyNot    string // why io_uring is not in use
	theMux    mux
	uringMux  bool // theMux is io_uring
	direct    struct {
		max  int32
		busy atomic.Int32
	}
)

func setup() {
	initOnce.Do(func() {
		direct.max = DefaultDirect
		if s := os.Getenv(EnvDirect); s != "" {
			if n, err := strconv.Atoi(s); err == nil && n >= 0 {
				direct.max = int32(min(n, 1<<20))
			}
		}
		mechanism = Thread
		env := os.Getenv(EnvMechanism)
		switch env {
		case Thread:
			whyNot = EnvMechanism + "=" + Thread
			return
		case "", "auto", IOURing, Waitv:
		default:
			whyNot = fmt.Sprintf("%s=%q is not a mechanism (iouring, waitv, thread, auto); ", EnvMechanism, env)
		}
		if env != Waitv {
			r, err := newURing()
			if err == nil {
				theMux, uringMux, mechanism, whyNot = r, true, IOURing, ""
				return
			}
			whyNot += "io_uring futex waits unavailable: " + err.Error()
		} else {
			whyNot = EnvMechanism + "=" + Waitv
		}
		p, err := newWaitvPool()
		if err != nil {
			whyNot += "; futex_waitv unavailable: " + err.Error()
			return
		}
		theMux, mechanism = p, Waitv
	})
}

// Mechanism returns the mechanism waits use in this process (IOURing,
// Waitv or Thread), and unless it is IOURing, why io_uring is not used
// (forced, or what failed).
func Mechanism() (name, reason string) {
	setup()
	return mechanism, whyNot
}

// Scalable reports whether idle waits cost no OS thread at all (io_uring).
func Scalable() bool {
	setup()
	return uringMux
}

// Multiplexed reports whether waits are multiplexed at all (io_uring, or
// futex_waitv workers holding a thread per 127 waits).
func Multiplexed() bool {
	setup()
	return theMux != nil
}

// ThreadsFor returns how many threads n multiplexed waits hold: 0 with
// io_uring, one per 127 with futex_waitv, and n without a multiplexer.
func ThreadsFor(n int) int {
	setup()
	switch {
	case uringMux:
		return 0
	case theMux != nil:
		return (n + waitvPerWorker - 1) / waitvPerWorker
	}
	return n
}

// InFlight returns the number of multiplexed waits armed.
func InFlight() int64 {
	setup()
	if theMux == nil {
		return 0
	}
	return theMux.inFlight()
}

// Armed returns how many multiplexed waits are armed on the word at addr
// (they include waits already woken whose goroutine has not run yet). A
// goroutine asleep on a word is either armed there or, while its wait is
// direct, a thread inside the futex system call (/proc/PID/task/TID/syscall
// shows it); tests that wait for a sleeper look at both.
func Armed(addr uintptr) int {
	setup()
	if theMux == nil {
		return 0
	}
	return theMux.armed(addr)
}

// A Waiter waits on futex words for one goroutine, one wait at a time; the
// zero value is ready to use. Close must be called once the caller is done
// waiting, before the memory holding the words may be unmapped.
type Waiter struct {
	// Keep leaves a multiplexed wait armed in the kernel when it times
	// out; the next Wait on the same word, value and flags continues it,
	// and Close ends it. For a caller that times out only to poll
	// something else (a peer's liveness) and is the only sleeper on the
	// word: a FUTEX_WAKE that arrives after the timeout is not lost, it
	// completes the next Wait at once.
	Keep bool

	o     *op
	addr  *uint32
	val   uint32
	flags Flags
	long  bool // a direct wait ran out: the rest goes to the multiplexer
	timer *time.Timer
}

// Wait sleeps while *addr == val, until a FUTEX_WAKE on addr (from any
// process for a shared word), or timeout (Forever: none). Like the futex
// system call it returns 0 (woken, possibly spuriously), EAGAIN (*addr
// did not hold val), EINTR, ETIMEDOUT, or another errno (EFAULT, EINVAL,
// ENOSYS or EPERM when futexes are filtered). Spurious returns are
// possible: the caller re-checks its condition, as with the system call.
//
// With the multiplexer, a wait costs the goroutine no thread: it is
// registered with io_uring and the goroutine parks until its completion.
// The first DefaultDirect concurrent waits (EnvDirect) sleep in their own
// thread for up to DirectFor, as a plain futex wait, which keeps the
// latency of a hot wait (woken within microseconds) at the system call's;
// longer waits move to the multiplexer.
func (w *Waiter) Wait(addr *uint32, val uint32, flags Flags, timeout time.Duration) syscall.Errno {
	if timeout == 0 {
		if atomic.LoadUint32(addr) != val {
			return unix.EAGAIN
		}
		return unix.ETIMEDOUT
	}
	if w.o != nil {
		if w.addr == addr && w.val == val && w.flags == flags {
			return w.await(timeout)
		}
		w.end()
	}
	setup()
	r := theMux
	if r == nil {
		return threadWait(addr, val, flags, timeout)
	}
	if !w.long && direct.busy.Add(1) <= direct.max {
		d := DirectFor
		if timeout >= 0 && timeout <= d {
			d = timeout
		}
		e := threadWait(addr, val, flags, d)
		direct.busy.Add(-1)
		if e != unix.ETIMEDOUT || d == timeout {
			return e
		}
		w.long = true
		if timeout > 0 {
			timeout -= d
		}
	} else if !w.long {
		direct.busy.Add(-1)
	}
	o, err := r.arm(addr, val, flags)
	if err != nil {
		// The ring failed (short of memory?): wait the old way.
		return threadWait(addr, val, flags, timeout)
	}
	w.o, w.addr, w.val, w.flags = o, addr, val, flags
	e := w.await(timeout)
	if e == unix.ENOMEM {
		// The kernel could not allocate the request (io_uring allocates
		// a futex wait's data without waiting for memory): the futex
		// system call needs no allocation. The result came at once, so
		// the whole timeout is left.
		return threadWait(addr, val, flags, timeout)
	}
	return e
}

// recheckEvery bounds how long a multiplexed wait trusts the kernel alone:
// every recheckEvery, a parked waiter loads its word, and if the word no
// longer holds the value it armed with while no completion came, the wait
// is cancelled and reported as EAGAIN (the caller re-checks, as after any
// spurious wake-up). Every caller changes the word before it wakes, so a
// wake-up lost on the way (once seen under load: a few io_uring futex
// waits that neither FUTEX_WAKE nor a completion reached) costs at most
// this delay, not a hang. A wait whose word still holds the value goes on
// sleeping without a system call.
var recheckEvery = 2 * time.Second

// await waits for w.o's completion, at most timeout (< 0: no limit).
func (w *Waiter) await(timeout time.Duration) syscall.Errno {
	for {
		d, recheck := timeout, timeout < 0 || timeout > recheckEvery
		if recheck {
			d = recheckEvery
		}
		if w.timer == nil {
			w.timer = time.NewTimer(d)
		} else {
			w.timer.Reset(d)
		}
		var res int32
		select {
		case res = <-w.o.done:
			w.timer.Stop()
			theMux.release(w.o)
			w.o = nil
			return errnoOf(res)
		case <-w.timer.C:
		}
		if recheck {
			if timeout > 0 {
				timeout -= d
			}
			if atomic.LoadUint32(w.addr) == w.val {
				continue
			}
			if res := w.end(); res != -int32(unix.ECANCELED) {
				return errnoOf(res) // the wake-up came after all
			}
			return unix.EAGAIN
		}
		if w.Keep {
			return unix.ETIMEDOUT
		}
		res = w.end()
		if res == -int32(unix.ECANCELED) {
			return unix.ETIMEDOUT
		}
		// Woken (or failed) before the cancel took effect: the wake-up is
		// reported, not lost.
		return errnoOf(res)
	}
}

// end cancels w.o and waits for its completion, which it returns.
func (w *Waiter) end() int32 {
	theMux.cancel(w.o)
	res := <-w.o.done
	theMux.release(w.o)
	w.o = nil
	return res
}

func errnoOf(res int32) syscall.Errno {
	switch {
	case res == 0:
		return 0
	case res == -int32(unix.ECANCELED):
		return unix.EINTR
	case res < 0:
		return syscall.Errno(-res)
	}
	return 0
}

// Close ends the wait Keep left armed, if any, and returns once the kernel
// no longer refers to the word. The Waiter may be used again.
func (w *Waiter) Close() {
	if w.o != nil {
		w.end()
	}
	if w.timer != nil {
		w.timer.Stop()
	}
	w.long = false
}
