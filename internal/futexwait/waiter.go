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
	// recheck signals op.recheck of every armed wait whose word no
	// longer holds its value, and returns how many it looked at.
	recheck() int
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

// defaultRecheckEvery bounds how long a multiplexed wait trusts the
// kernel alone: every recheckEvery, one recheck goroutine for the whole
// process (recheckLoop) loads the word of every armed wait, and signals
// the waits whose word no longer holds the value they armed with while no
// completion came; such a wait is cancelled and reported as EAGAIN (the
// caller re-checks, as after any spurious wake-up). Every caller changes
// the word before it wakes, so a wake-up lost on the way (once seen under
// load: a few io_uring futex waits that neither FUTEX_WAKE nor a
// completion reached) costs at most this delay, not a hang. A wait whose
// word still holds the value is not woken at all: its goroutine stays
// parked, and it has no timer of its own unless its caller gave a timeout.
const defaultRecheckEvery = 2 * time.Second

// recheckNanos overrides defaultRecheckEvery when positive (tests shorten
// it through setRecheckEvery).
var recheckNanos atomic.Int64

func recheckEvery() time.Duration {
	if d := recheckNanos.Load(); d > 0 {
		return time.Duration(d)
	}
	return defaultRecheckEvery
}

// rechecker is the process's recheck goroutine: started by the first
// parked wait, it runs while waits are armed and exits when none are.
var rechecker struct {
	running atomic.Bool
	kick    chan struct{} // the period changed (setRecheckEvery)
	walks   atomic.Int64  // walks done, for tests
}

// parkedWakes counts the times a parked wait's goroutine ran (a
// completion, a recheck signal or its timeout), for tests.
var parkedWakes atomic.Int64

func init() { rechecker.kick = make(chan struct{}, 1) }

// setRecheckEvery sets the recheck period (d <= 0: the default) and makes
// a running recheck goroutine start its period over with it.
func setRecheckEvery(d time.Duration) {
	recheckNanos.Store(int64(d))
	select {
	case rechecker.kick <- struct{}{}:
	default:
	}
}

// startRechecker starts the recheck goroutine for m unless it runs. A
// wait calls it once armed (m.inFlight counts it), so the goroutine, which
// exits only after it has seen no wait in flight with running cleared,
// cannot miss it.
func startRechecker(m mux) {
	if !rechecker.running.Load() && rechecker.running.CompareAndSwap(false, true) {
		go recheckLoop(m)
	}
}

// recheckLoop walks the armed waits every recheckEvery (see
// defaultRecheckEvery) until none are armed. The walk costs a load per
// armed wait (10,000 waits: a fraction of a millisecond every two
// seconds) and wakes only the waits whose word changed.
//
// A word that changes and changes back between two walks (ABA) is not
// noticed; the per-wait check before it had the same blind spot. The
// safety net is for a lost wake-up after which the word stays changed
// (a ring's counter, a semaphore's value), which it catches.
func recheckLoop(m mux) {
	t := time.NewTimer(recheckEvery())
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-rechecker.kick:
			t.Reset(recheckEvery())
			continue
		}
		m.recheck()
		rechecker.walks.Add(1)
		if m.inFlight() == 0 {
			rechecker.running.Store(false)
			// A wait armed before the store either saw running set (and
			// is counted here) or starts a new goroutine itself.
			if m.inFlight() == 0 || !rechecker.running.CompareAndSwap(false, true) {
				return
			}
		}
		t.Reset(recheckEvery())
	}
}

// await waits for w.o's completion, at most timeout (< 0: no limit). A
// timer runs only for a finite timeout; the recheck goroutine signals
// w.o.recheck if the word changes while no completion comes.
func (w *Waiter) await(timeout time.Duration) syscall.Errno {
	startRechecker(theMux)
	var expired <-chan time.Time
	if timeout >= 0 {
		if w.timer == nil {
			w.timer = time.NewTimer(timeout)
		} else {
			w.timer.Reset(timeout)
		}
		expired = w.timer.C
	}
	for {
		select {
		case res := <-w.o.done:
			parkedWakes.Add(1)
			if expired != nil {
				w.timer.Stop()
			}
			theMux.release(w.o)
			w.o = nil
			return errnoOf(res)
		case <-w.o.recheck:
			parkedWakes.Add(1)
			if atomic.LoadUint32(w.addr) == w.val {
				continue // changed back since the walk: sleep on
			}
			if expired != nil {
				w.timer.Stop()
			}
			if res := w.end(); res != -int32(unix.ECANCELED) {
				return errnoOf(res) // the wake-up came after all
			}
			return unix.EAGAIN
		case <-expired:
			parkedWakes.Add(1)
		}
		if w.Keep {
			return unix.ETIMEDOUT
		}
		res := w.end()
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
