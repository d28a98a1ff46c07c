package ring

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/shmmap/shmmap/internal/futexwait"
	"golang.org/x/sys/unix"
)

// The futex wake, shared (not FUTEX_PRIVATE_FLAG): the waiter and the
// waker are different processes mapping the same page.
const futexOpWake = 1 // FUTEX_WAKE

// Spinning before sleeping: spinLoads re-checks in a tight loop, then
// spinYields re-checks each after yielding the CPU (runtime.Gosched for
// other goroutines, then sched_yield for other processes: the peer may be
// waiting for this CPU). cring/ring.h spins the same way (SHMRING_SPIN_*).
// inProcessSpin is how long a blocked call whose peer is in this process,
// and answered the previous wait within this time, keeps yielding to it
// after the counted spin, before it sleeps.
const inProcessSpin = time.Millisecond

// wakeSpin is how long after this process last woke a sleeping peer with
// FUTEX_WAKE a blocked call whose peer is another process keeps spinning,
// after the counted spin, before it sleeps (see spinMore), in nanoseconds;
// 0 turns the spin off.
var wakeSpin atomic.Int64

func init() { wakeSpin.Store(int64(50 * time.Microsecond)) }

// lastFutexWake is when this process last woke a sleeper with FUTEX_WAKE,
// in nanoseconds of monoClock; 0 if never.
var lastFutexWake atomic.Int64

// monoEpoch is monoClock's zero.
var monoEpoch = time.Now()

// monoClock returns nanoseconds on the monotonic clock since monoEpoch
// (never 0 after the first nanosecond).
func monoClock() int64 { return int64(time.Since(monoEpoch)) }

const (
	spinLoads  = 64
	spinYields = 16
)

// yield lets other goroutines run, then other threads and processes.
func yield() {
	runtime.Gosched()
	unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
}

// futexWait sleeps while *word == val, at most d (> 0), through fw: in its
// own thread for a short wait, parked on the multiplexer for a long one
// (see internal/futexwait). It reports whether it timed out. EAGAIN (the
// value changed) and EINTR are ordinary returns; any other errno (ENOSYS
// or EPERM under a seccomp filter, EFAULT) is an error, so that a caller
// never spins on a wait that cannot sleep.
func futexWait(fw *futexwait.Waiter, word *atomic.Uint32, val uint32, d time.Duration) (timedOut bool, err error) {
	switch e := fw.Wait((*uint32)(unsafe.Pointer(word)), val, 0, d); e {
	case 0, unix.EAGAIN, unix.EINTR:
		return false, nil
	case unix.ETIMEDOUT:
		return true, nil
	default:
		return false, fmt.Errorf("ring: futex wait: %w", e)
	}
}

// futexWake wakes up to n processes sleeping on word.
func futexWake(word *atomic.Uint32, n int) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(word)), futexOpWake, uintptr(n), 0, 0, 0)
}

// wakeIf wakes the other side if it announced that it sleeps on word. The
// caller has just published its position with a sequentially consistent
// store; the sleeper sets word to 1 before re-checking that position, so
// either the sleeper sees the new position or this load sees the 1 (no lost
// wake-up). The swap to 0 and the wake-up of a call parked in the lot are
// one step (lotSwap); only a sleeper not found there gets a FUTEX_WAKE.
// A call found in the lot is woken even if another waker swapped the word
// first: that one did not know the lot (see lot.go).
func wakeIf(word *atomic.Uint32, st *stats) {
	if word.Load() != 0 && wake(word) {
		st.wakes.Add(1)
	}
}

// wake is wakeIf's wake-up once the word was seen set: it reports whether
// it woke anyone (or may have: a FUTEX_WAKE).
func wake(word *atomic.Uint32) bool {
	old, woke := lotSwap(word, 1)
	if woke == 0 && old != 0 {
		futexWake(word, 1)
		lastFutexWake.Store(monoClock())
	}
	return woke != 0 || old != 0
}

// wakeAttached wakes the other side, if it announced a sleep on word, once
// this side has taken its role: a call that went to sleep while our pid
// word was 0 (no peer yet) then re-checks and watches us (see peerSleep)
// rather than wait for its next look. The C ring does not do this on
// attach; the Go side looks again every noPeerRecheck for such a peer.
func wakeAttached(word *atomic.Uint32) {
	if word.Load() != 0 {
		wake(word)
	}
}

// afterFunc is context.AfterFunc whose stop function also waits for f if f
// has already started: f touches the shared memory, which the caller may
// unmap as soon as it has returned.
func afterFunc(ctx context.Context, f func()) (stop func()) {
	done := make(chan struct{})
	stopf := context.AfterFunc(ctx, func() {
		defer close(done)
		f()
	})
	return func() {
		if !stopf() {
			<-done
		}
	}
}

// sleepFor returns how long to sleep: d (futexwait.Forever: no limit), or
// less if ctx's deadline is nearer, and context.DeadlineExceeded once the
// deadline has passed (ctx's own timer may not have fired yet).
func sleepFor(ctx context.Context, d time.Duration) (time.Duration, error) {
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		if left <= 0 {
			return 0, context.DeadlineExceeded
		}
		if d < 0 || left < d {
			return left, nil
		}
	}
	return d, nil
}

// waiter is one side's blocking machinery.
type waiter struct {
	word      *atomic.Uint32 // our futex word
	peer      *atomic.Uint32 // the other side's pid word
	peerRole  string
	peerCheck atomic.Int64           // time.Duration
	spin      atomic.Int64           // loads<<32 | yields, or -1 for the default
	quick     atomic.Bool            // peer in this process: the last wait ended within inProcessSpin; another process: no spin through a wake-up went unanswered since a wait last ended within the counted spin
	lot       atomic.Bool            // parks in the lot (see lot.go); cleared for good by a waker that does not know it
	lotP      atomic.Pointer[parked] // kept for the next park
	st        stats
}

func (w *waiter) spins() (loads, yields int) {
	v := w.spin.Load()
	if v < 0 {
		return spinLoads, spinYields
	}
	return int(v >> 32), int(uint32(v))
}

func (w *waiter) setSpin(loads, yields int) {
	if loads < 0 || yields < 0 {
		w.spin.Store(-1)
		return
	}
	w.spin.Store(int64(min(loads, 1<<30))<<32 | int64(min(yields, 1<<30)))
}

// peerSleep decides how the coming sleep learns that the peer died, with
// *pw the watch w is registered with (nil: none). It keeps w registered
// with the watch of the peer's current pid where it can (see
// peerwatch.go), and returns the longest the sleep may last before w looks
// at the peer itself (futexwait.Forever: no limit), or the pid of the
// watched peer once it has exited (0 while it lives). The caller has announced its sleep (its word
// is 1): a watch that sees its process exit after this check sets the
// word to 0 and wakes it, so the sleep cannot miss the death.
//
//   - peer checks off (SetPeerCheck < 0): no limit, no watch;
//   - no peer yet (pid word 0): noPeerRecheck, for a C peer that attaches
//     without waking us;
//   - closed, or a goroutine of this process: no limit (Close wakes us,
//     and this process cannot die under us);
//   - another process: watched, and no limit; DefaultPeerCheck where it
//     cannot be watched.
//
// A positive SetPeerCheck bounds every sleep as well.
func (w *waiter) peerSleep(pw **peerWatch) (every time.Duration, dead uint32) {
	user := time.Duration(w.peerCheck.Load())
	pid := w.peer.Load()
	if e := *pw; e != nil && (user < 0 || e.pid != pid || e.over.Load()) {
		if user >= 0 && e.pid == pid && e.dead.Load() {
			return 0, pid
		}
		unwatch(e, w)
		*pw = nil
	}
	if user < 0 {
		return futexwait.Forever, 0
	}
	every = futexwait.Forever
	switch {
	case pid == 0:
		every = time.Duration(noPeerRecheck.Load())
	case pid == ownerClosed || pid == selfPID || *pw != nil:
	case peerWatchOn.Load():
		e, err := watch(pid, w)
		switch {
		case err == errPeerGone:
			return 0, pid
		case err != nil:
			every = DefaultPeerCheck
		default:
			*pw = e
		}
	default:
		every = DefaultPeerCheck
	}
	if user > 0 && (every < 0 || user < every) {
		every = user
	}
	return every, 0
}

// block calls try until it reports done or an error: spinning first, then
// sleeping on the futex. While asleep it learns of the peer process's
// death from the peer's watch, or by waking to check (see peerSleep). ErrFull and ErrEmpty from try mean
// "not yet".
func (w *waiter) block(ctx context.Context, try func() error) error {
	inProc := w.peer.Load() == selfPID
	if inProc && w.lot.Load() {
		if err := w.blockLot(ctx, try); err != errNotLot {
			return err
		}
		inProc = w.peer.Load() == selfPID
	}
	loads, yields := w.spins()
	var start time.Time
	if inProc {
		start = time.Now()
		defer func() { w.quick.Store(time.Since(start) < inProcessSpin) }()
	}
	for i := range loads + yields {
		if err := try(); err != ErrFull && err != ErrEmpty {
			if !inProc && !w.quick.Load() {
				w.quick.Store(true)
			}
			return err
		}
		w.spinWait(i >= loads)
	}
	if loads+yields > 0 && w.quick.Load() {
		if done, err := w.spinMore(ctx, inProc, start, try); done {
			return err
		}
	}
	if ctx.Done() != nil {
		// Cancellation must interrupt the sleep: clearing the word makes a
		// FUTEX_WAIT that has not started yet return at once, the wake ends
		// one in progress.
		defer afterFunc(ctx, func() {
			lotSwap(w.word, 1)
			futexWake(w.word, 1)
		})()
	}
	defer w.word.Store(0)
	// A timeout (to check the peer) leaves a multiplexed wait armed: the
	// next sleep continues it, and a wake-up in between completes it.
	// Close ends it before the memory may go.
	fw := futexwait.Waiter{Keep: true}
	defer fw.Close()
	var pw *peerWatch // the watch of the peer process, while registered
	defer func() {
		if pw != nil {
			unwatch(pw, w)
		}
	}()
	lastCheck := time.Now()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		w.word.Store(1) // announce the sleep, then re-check (see wakeIf)
		if err := try(); err != ErrFull && err != ErrEmpty {
			return err
		}
		if ctx.Err() != nil {
			continue
		}
		every, dead := w.peerSleep(&pw)
		err := error(nil)
		if dead != 0 {
			err = w.deadErr(dead)
		} else if every > 0 && time.Since(lastCheck) >= every {
			err = w.peerAlive()
			lastCheck = time.Now()
		}
		if err != nil {
			// Last look: the peer may have published just before dying.
			if err2 := try(); err2 != ErrFull && err2 != ErrEmpty {
				return err2
			}
			return err
		}
		d, err := sleepFor(ctx, every)
		if err != nil {
			return err
		}
		w.st.sleeps.Add(1)
		timedOut, err := futexWait(&fw, w.word, 1, d)
		if err != nil {
			return err
		}
		if timedOut {
			w.st.timeouts.Add(1)
		}
	}
}

// spinMore is block's spin after the counted one, for a call whose last
// wait was quick; it reports done, with try's result, if try succeeded or
// failed with an error other than ErrFull and ErrEmpty. A cross-process
// spin that runs out (or is cut short by ctx) clears quick; the
// in-process case sets quick when block returns.
//
//   - The peer is a goroutine of this process that answered the last wait
//     within inProcessSpin: it is likely busy on another P (copying a
//     large message), so keep yielding to it until inProcessSpin has
//     passed since the call began, rather than sleep, whose wake-up costs
//     the peer a system call and this thread tens of microseconds on a
//     virtual machine. A peer that was slow last time (an idle ring) gets
//     no such spin.
//   - The peer is another process and this process woke a sleeping peer
//     within wakeSpin: in request/response, that peer is most likely the
//     one whose answer this call waits for, and it cannot answer before it
//     has woken up, which on a virtual machine whose other CPU went idle
//     takes tens of microseconds, longer than the counted spin. Sleeping
//     in the meantime makes the peer wake us in turn, and each side then
//     sleeps through the other's wake-up, round trip after round trip (a
//     64-byte round trip that takes 0.8 µs took 80 µs more per sleep, and
//     one sleep led to hundreds). So keep spinning, yield turns, until
//     wakeSpin has passed since that wake-up (or ctx's deadline, if
//     sooner). A peer that did not answer within such a spin gets no more
//     of them until a wait ends within the counted spin again.
func (w *waiter) spinMore(ctx context.Context, inProc bool, start time.Time, try func() error) (done bool, err error) {
	if inProc {
		for time.Since(start) < inProcessSpin {
			if err := try(); err != ErrFull && err != ErrEmpty {
				return true, err
			}
			if ctx.Err() != nil {
				break
			}
			runtime.Gosched()
		}
		return false, nil
	}
	woke, spin := lastFutexWake.Load(), wakeSpin.Load()
	end := woke + spin
	if dl, ok := ctx.Deadline(); ok {
		end = min(end, monoClock()+int64(time.Until(dl)))
	}
	if woke == 0 || monoClock() >= end {
		return false, nil
	}
	for monoClock() < end {
		if err := try(); err != ErrFull && err != ErrEmpty {
			return true, err
		}
		if ctx.Err() != nil {
			break
		}
		w.spinWait(true)
	}
	w.quick.Store(false)
	return false, nil
}

// peerAlive returns ErrPeerDead if the peer's pid word names a process that
// is gone (or a zombie). No peer yet (0) and a closed peer are alive as far
// as this check goes: try handles closing.
func (w *waiter) peerAlive() error {
	pid := w.peer.Load()
	if pid == 0 || pid == ownerClosed {
		return nil
	}
	if pidDead(int(pid)) {
		return w.deadErr(pid)
	}
	return nil
}

// deadErr is the error of a call whose peer, process pid, died.
func (w *waiter) deadErr(pid uint32) error {
	return errorf(ErrPeerDead, "the %s (pid %d) exited without closing the ring", w.peerRole, pid)
}

// pidDead reports whether process pid has exited. A zombie — dead but not
// yet reaped by its parent — counts as dead: a pidfd polls readable as soon
// as the process exits, which kill(pid, 0) would not tell.
func pidDead(pid int) bool {
	fd, err := unix.PidfdOpen(pid, 0)
	if err == nil {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, perr := unix.Poll(fds, 0)
		unix.Close(fd)
		return perr == nil && n > 0
	}
	if errors.Is(err, unix.ESRCH) {
		return true
	}
	// No pidfd_open (before Linux 5.3, or filtered): kill(pid, 0), then the
	// state letter in /proc/PID/stat for zombies.
	if err := unix.Kill(pid, 0); errors.Is(err, unix.ESRCH) {
		return true
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] == 'Z' || s[i+2] == 'X'
	}
	return false
}
