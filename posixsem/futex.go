package posixsem

import (
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Futex operations and flags (<linux/futex.h>; x/sys/unix does not define
// them).
const (
	futexWake           = 1
	futexWaitBitset     = 9
	futexPrivateFlag    = 128
	futexClockRealtime  = 256
	futexBitsetMatchAny = 0xffffffff
)

// The private field of struct new_sem (sysdeps/nptl/futex-internal.h:
// FUTEX_PRIVATE is LLL_PRIVATE, FUTEX_SHARED is LLL_SHARED, which is
// FUTEX_PRIVATE_FLAG).
const (
	futexPrivate = 0
	futexShared  = futexPrivateFlag
)

// futexOp is glibc's __lll_private_flag: the private flag is added unless
// private is FUTEX_SHARED.
func futexOp(op int, private int32) uintptr {
	return uintptr(uint32((op | futexPrivateFlag) ^ int(private)))
}

// futexWait is __futex_abstimed_wait_common with clockid CLOCK_REALTIME:
// FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME on addr while it holds val, until
// abs (nil: no timeout). It returns 0, EAGAIN (the word did not hold val),
// EINTR, ETIMEDOUT, or an errno glibc would abort on.
func futexWait(addr *uint32, val uint32, abs *unix.Timespec, private int32) syscall.Errno {
	if abs != nil && abs.Sec < 0 {
		// The kernel rejects negative times; glibc reports a timeout.
		return unix.ETIMEDOUT
	}
	_, _, e := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)),
		futexOp(futexWaitBitset|futexClockRealtime, private), uintptr(val),
		uintptr(unsafe.Pointer(abs)), 0, futexBitsetMatchAny)
	return e
}

// futexWakeN is futex_wake: FUTEX_WAKE up to n waiters on addr.
func futexWakeN(addr *uint32, n int, private int32) syscall.Errno {
	_, _, e := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)),
		futexOp(futexWake, private), uintptr(n), 0, 0, 0)
	return e
}

// absTimeout converts a deadline to the futex's absolute CLOCK_REALTIME
// timeout. It returns nil when the deadline does not fit the platform's
// timespec (after 2038 on 32-bit): the context's own timer ends the wait.
func absTimeout(deadline time.Time) *unix.Timespec {
	ts, err := unix.TimeToTimespec(deadline.Round(0))
	if err != nil {
		return nil
	}
	return &ts
}
