package pthread

import (
	"math"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Futex operations and flags (<linux/futex.h>).
const (
	futexWait           = 0
	futexWake           = 1
	futexWaitBitset     = 9
	futexClockRealtime  = 256
	futexBitsetMatchAny = 0xffffffff
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

// futexSleep waits on addr while it holds val: FUTEX_WAIT without a
// timeout (glibc's futex_wait), or with abs FUTEX_WAIT_BITSET with
// FUTEX_CLOCK_REALTIME and an absolute timeout
// (__futex_abstimed_wait64 with CLOCK_REALTIME). It returns 0, EAGAIN,
// EINTR or ETIMEDOUT (or an errno glibc would abort on).
func futexSleep(addr *uint32, val uint32, abs *unix.Timespec) syscall.Errno {
	var e syscall.Errno
	if abs == nil {
		_, _, e = unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWait, uintptr(val), 0, 0, 0)
	} else {
		if abs.Sec < 0 {
			return unix.ETIMEDOUT
		}
		_, _, e = unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)),
			futexWaitBitset|futexClockRealtime, uintptr(val),
			uintptr(unsafe.Pointer(abs)), 0, futexBitsetMatchAny)
	}
	return e
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

// absTimeout converts a deadline to the futex's absolute CLOCK_REALTIME
// timeout; nil when it does not fit the platform's timespec (after 2038 on
// 32-bit), and the context's own timer ends the wait.
func absTimeout(deadline time.Time) *unix.Timespec {
	ts, err := unix.TimeToTimespec(deadline.Round(0))
	if err != nil {
		return nil
	}
	return &ts
}
