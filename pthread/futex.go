package pthread

import (
	"math"
	"syscall"
	"time"
	"unsafe"

	"github.com/shmmap/shmmap/internal/futexwait"
	"golang.org/x/sys/unix"
)

// Futex operations and flags (<linux/futex.h>).
const (
	futexWait = 0
	futexWake = 1
)

// The bits of a robust mutex's lock word (<linux/futex.h>).
const (
	futexWaiters   = 0x80000000
	futexOwnerDied = 0x40000000
	futexTIDMask   = 0x3fffffff
)

// Every futex operation here is a shared one (no FUTEX_PRIVATE_FLAG):
// MutexAt accepts only process-shared mutexes, and glibc uses shared
// futex operations for every robust mutex (PTHREAD_ROBUST_MUTEX_PSHARED).

// futexSleep waits on addr while it holds val, until deadline (zero: no
// timeout). It returns 0, EAGAIN, EINTR or ETIMEDOUT (or an errno glibc
// would abort on).
//
// A goroutine free to move between threads waits through fw
// (internal/futexwait): once the wait lasts more than a moment it parks
// the goroutine, not its thread, in a FUTEX_WAIT that io_uring (or a
// futex_waitv worker) holds for it. A goroutine wired to its thread
// (direct: a robust, errorcheck or recursive mutex, or LockOn's Thread,
// where the lock word or __owner names the thread) keeps the thread
// whatever it does, so it sleeps in the futex system call itself, as
// glibc's __lll_lock_wait does: the multiplexer would only add hops to
// its wake-up. Either way the wait is FUTEX_WAIT on the shared word, the
// one every waker (C's FUTEX_WAKE included) wakes.
//
// The deadline is measured on Go's monotonic clock (a relative timeout),
// not as glibc's absolute CLOCK_REALTIME one: a context's deadline is a
// Go time, whose own timer fires on the monotonic clock, and a jump of
// the wall clock moves neither.
func futexSleep(fw *futexwait.Waiter, direct, cancellable bool, addr *uint32, val uint32, deadline time.Time) syscall.Errno {
	timeout := futexwait.Forever
	if !deadline.IsZero() {
		timeout = max(time.Until(deadline), 0)
	}
	if !direct {
		return waitSliced(fw, addr, val, 0, timeout, cancellable) // 0: shared, as glibc's pshared mutexes
	}
	var ts *unix.Timespec
	if timeout >= 0 {
		if timeout == 0 {
			return unix.ETIMEDOUT
		}
		t := unix.NsecToTimespec(int64(timeout))
		ts = &t
	}
	_, _, e := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWait, uintptr(val),
		uintptr(unsafe.Pointer(ts)), 0, 0)
	return e
}

// waitvCancelSlice bounds each multiplexed wait of a cancellable caller
// while futex_waitv workers multiplex the waits (see waitSliced).
const waitvCancelSlice = 10 * time.Millisecond

// waitSliced is fw.Wait, except that with futex_waitv workers
// (SHMMAP_FUTEXWAIT=waitv, or no io_uring futex wait) the wait of a
// cancellable caller lasts at most waitvCancelSlice, and then returns
// EINTR (look again) rather than ETIMEDOUT. A cancellation is announced by
// FUTEX_WAKEs that leave the word unchanged (wakeUntil); a futex_waitv
// worker completes only the one wait the kernel reports woken, and when
// another goroutine sleeps on the same word in the same worker, the
// cancelled one may never be the one reported. Its slices bound the
// cancellation's delay instead. With io_uring every wait is woken by the
// FUTEX_WAKE and nothing is sliced.
func waitSliced(fw *futexwait.Waiter, addr *uint32, val uint32, flags futexwait.Flags, timeout time.Duration, cancellable bool) syscall.Errno {
	if cancellable && (timeout < 0 || timeout > waitvCancelSlice) {
		if m, _ := futexwait.Mechanism(); m == futexwait.Waitv {
			if e := fw.Wait(addr, val, flags, waitvCancelSlice); e != unix.ETIMEDOUT {
				return e
			}
			return unix.EINTR
		}
	}
	return fw.Wait(addr, val, flags, timeout)
}

// futexWakeN wakes up to n waiters on addr (FUTEX_WAKE). FUTEX_WAKE never
// blocks, so it is a raw system call: without the Go scheduler's
// entersyscall and exitsyscall, which cost about as much as the wake-up
// itself and would leave the lock's hand-off slower than C's.
func futexWakeN(addr *uint32, n int) {
	unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWake, uintptr(n), 0, 0, 0)
}

// wakeUntil wakes every sleeper on addr until leaving is closed: a
// LockContext whose context was cancelled may not be asleep yet when the
// wake-up comes, so one is not enough. The other sleepers (Go or C) see
// the lock still taken and go back to sleep, as after any spurious
// wake-up; one that finds it free takes it, which the protocol allows.
func wakeUntil(addr *uint32, leaving <-chan struct{}) {
	delay := 50 * time.Microsecond
	t := time.NewTimer(delay)
	defer t.Stop()
	for {
		futexWakeN(addr, math.MaxInt32)
		select {
		case <-leaving:
			return
		case <-t.C:
		}
		delay = min(2*delay, 10*time.Millisecond)
		t.Reset(delay)
	}
}
