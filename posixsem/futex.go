package posixsem

import (
	"syscall"
	"time"
	"unsafe"

	"github.com/shmmap/shmmap/internal/futexwait"
	"golang.org/x/sys/unix"
)

// Futex operations and flags (<linux/futex.h>; x/sys/unix does not define
// them).
const (
	futexWake        = 1
	futexPrivateFlag = 128
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
// a wait on addr while it holds val, until deadline (zero: no timeout),
// through fw (internal/futexwait), which parks the goroutine rather than
// its thread once the wait lasts. It returns 0, EAGAIN (the word did not
// hold val), EINTR, ETIMEDOUT, or an errno glibc would abort on. The
// deadline is measured on Go's monotonic clock (time.Until), not as an
// absolute CLOCK_REALTIME timeout: a context's deadline is a Go time, and
// a jump of the wall clock does not move it.
func futexWait(fw *futexwait.Waiter, addr *uint32, val uint32, deadline time.Time, private int32) syscall.Errno {
	timeout := futexwait.Forever
	if !deadline.IsZero() {
		timeout = max(time.Until(deadline), 0)
	}
	var flags futexwait.Flags
	if futexOp(0, private)&futexPrivateFlag != 0 {
		flags = futexwait.Private
	}
	return fw.Wait(addr, val, flags, timeout)
}

// futexWakeN is futex_wake: FUTEX_WAKE up to n waiters on addr.
func futexWakeN(addr *uint32, n int, private int32) syscall.Errno {
	_, _, e := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)),
		futexOp(futexWake, private), uintptr(n), 0, 0, 0)
	return e
}
