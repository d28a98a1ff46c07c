package futexwait

import (
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Futex operations and flags (<linux/futex.h>).
const (
	futexWait        = 0   // FUTEX_WAIT
	futexWake        = 1   // FUTEX_WAKE
	futexPrivateFlag = 128 // FUTEX_PRIVATE_FLAG

	futex2SizeU32       = 0x02 // FUTEX2_SIZE_U32
	futex2Private       = 128  // FUTEX2_PRIVATE
	futexBitsetMatchAny = 0xffffffff
)

// Flags qualify a futex word.
type Flags uint32

// Private marks a process-private word (FUTEX_PRIVATE_FLAG): only threads
// of this process wait on it and wake it. Without it the word is shared:
// the waker may be another process mapping the same page.
const Private Flags = 1

func (f Flags) op(op int) uintptr {
	if f&Private != 0 {
		op |= futexPrivateFlag
	}
	return uintptr(op)
}

// threadWait is the futex system call: FUTEX_WAIT on addr while it holds
// val, at most timeout (negative: no limit). The calling goroutine keeps
// its OS thread for the whole sleep.
func threadWait(addr *uint32, val uint32, flags Flags, timeout time.Duration) syscall.Errno {
	var ts *unix.Timespec
	if timeout >= 0 {
		t := unix.NsecToTimespec(int64(timeout))
		ts = &t
	}
	_, _, e := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), flags.op(futexWait),
		uintptr(val), uintptr(unsafe.Pointer(ts)), 0, 0)
	return e
}

// Wake is FUTEX_WAKE: it wakes up to n waiters on addr, whichever
// mechanism they wait with, and returns how many it woke.
func Wake(addr *uint32, n int, flags Flags) (int, error) {
	r, _, e := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), flags.op(futexWake),
		uintptr(n), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}
