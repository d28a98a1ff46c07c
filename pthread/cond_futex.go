package pthread

// Futex calls for the condition variable. They are private to the Cond
// code so that it does not depend on the mutex's helpers; both speak the
// same <linux/futex.h>.

import (
	"time"
	"unsafe"

	"github.com/shmmap/shmmap/internal/futexwait"
	"golang.org/x/sys/unix"
)

const (
	condFutexWake        = 1   // FUTEX_WAKE
	condFutexPrivateFlag = 128 // FUTEX_PRIVATE_FLAG
)

// condFutexOp adds FUTEX_PRIVATE_FLAG unless the condvar is process-shared
// (__condvar_get_private and __lll_private_flag).
func condFutexOp(op int, shared bool) uintptr {
	if !shared {
		op |= condFutexPrivateFlag
	}
	return uintptr(op)
}

// condFutexFlags is condFutexOp's choice for futexwait.
func condFutexFlags(shared bool) futexwait.Flags {
	if !shared {
		return futexwait.Private
	}
	return 0
}

// condFutexWaitSimple is futex_wait_simple: FUTEX_WAIT on addr while it
// holds val, no timeout, through fw (see condFutexWaitUntil). Errors
// (EAGAIN, EINTR) only mean "look again".
func condFutexWaitSimple(fw *futexwait.Waiter, addr *uint32, val uint32, shared bool) {
	fw.Wait(addr, val, condFutexFlags(shared), futexwait.Forever)
}

// condFutexWaitUntil is __futex_abstimed_wait_cancelable64 with an
// expected value: a wait on addr while it holds val, until deadline
// (zero: no timeout). It returns 0, EAGAIN, EINTR or ETIMEDOUT.
//
// It waits through fw (internal/futexwait), which parks the goroutine,
// not its thread, once the wait lasts more than a moment: the kernel
// holds a FUTEX_WAIT on the word for it (io_uring, or a futex_waitv
// worker), which the signaler's FUTEX_WAKE (C's or Go's) completes.
// The deadline is measured on Go's monotonic clock (a relative timeout),
// whatever the condvar's clock: a context's deadline is a Go time, and
// its own timer fires on that clock. The condvar's clock still governs
// C's timed waits on it.
//
// A cancellable wait is sliced where futex_waitv workers multiplex the
// waits (see waitSliced).
func condFutexWaitUntil(fw *futexwait.Waiter, addr *uint32, val uint32, deadline time.Time, shared, cancellable bool) unix.Errno {
	timeout := futexwait.Forever
	if !deadline.IsZero() {
		timeout = max(time.Until(deadline), 0)
	}
	return waitSliced(fw, addr, val, condFutexFlags(shared), timeout, cancellable)
}

// condFutexWakeN is futex_wake: wake up to n waiters on addr.
func condFutexWakeN(addr *uint32, n int, shared bool) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)),
		condFutexOp(condFutexWake, shared), uintptr(n), 0, 0, 0)
}
