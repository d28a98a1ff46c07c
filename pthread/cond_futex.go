package pthread

// Futex calls for the condition variable. They are private to the Cond
// code so that it does not depend on the mutex's helpers; both speak the
// same <linux/futex.h>.

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	condFutexWait        = 0   // FUTEX_WAIT
	condFutexWake        = 1   // FUTEX_WAKE
	condFutexWaitBitset  = 9   // FUTEX_WAIT_BITSET
	condFutexPrivateFlag = 128 // FUTEX_PRIVATE_FLAG
	condFutexClockRT     = 256 // FUTEX_CLOCK_REALTIME
	condFutexBitsetAny   = 0xffffffff
)

// condFutexOp adds FUTEX_PRIVATE_FLAG unless the condvar is process-shared
// (__condvar_get_private and __lll_private_flag).
func condFutexOp(op int, shared bool) uintptr {
	if !shared {
		op |= condFutexPrivateFlag
	}
	return uintptr(op)
}

// condFutexWaitSimple is futex_wait_simple: FUTEX_WAIT on addr while it
// holds val, no timeout. Errors (EAGAIN, EINTR) only mean "look again".
func condFutexWaitSimple(addr *uint32, val uint32, shared bool) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)),
		condFutexOp(condFutexWait, shared), uintptr(val), 0, 0, 0)
}

// condFutexWaitAbs is __futex_abstimed_wait_cancelable64 with an expected
// value: FUTEX_WAIT_BITSET on addr while it holds val, until abs on the
// given clock (nil: no timeout). FUTEX_CLOCK_REALTIME is set for
// CLOCK_REALTIME, as glibc does. It returns 0, EAGAIN, EINTR or ETIMEDOUT.
func condFutexWaitAbs(addr *uint32, val uint32, clock int32, abs *unix.Timespec, shared bool) unix.Errno {
	if abs != nil && abs.Sec < 0 {
		// The kernel rejects negative times; glibc reports a timeout.
		return unix.ETIMEDOUT
	}
	op := condFutexWaitBitset
	if clock == unix.CLOCK_REALTIME {
		op |= condFutexClockRT
	}
	_, _, e := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)),
		condFutexOp(op, shared), uintptr(val), uintptr(unsafe.Pointer(abs)), 0, condFutexBitsetAny)
	return e
}

// condFutexWakeN is futex_wake: wake up to n waiters on addr.
func condFutexWakeN(addr *uint32, n int, shared bool) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)),
		condFutexOp(condFutexWake, shared), uintptr(n), 0, 0, 0)
}

// condAbsTimeout converts a context deadline to an absolute time on clock
// (CLOCK_REALTIME or CLOCK_MONOTONIC) for the futex. It returns nil when
// the time does not fit the platform's timespec (after 2038 on 32-bit):
// the context's own timer then ends the wait.
func condAbsTimeout(deadline time.Time, clock int32) *unix.Timespec {
	var t time.Time
	if clock == unix.CLOCK_REALTIME {
		t = deadline.Round(0)
	} else {
		var now unix.Timespec
		if err := unix.ClockGettime(clock, &now); err != nil {
			return nil
		}
		t = time.Unix(now.Unix()).Add(time.Until(deadline))
	}
	ts, err := unix.TimeToTimespec(t)
	if err != nil {
		return nil
	}
	return &ts
}
