package posixsem

import (
	"sync/atomic"
	"unsafe"
)

// FutexAddr is the address of s's futex word, as /proc/PID/syscall shows
// it while a thread sleeps on the semaphore.
func FutexAddr(s *Semaphore) uintptr { return uintptr(unsafe.Pointer(s.f.word)) }

// Waiters is s's nwaiters.
func Waiters(s *Semaphore) uint32 {
	if s.l.wide {
		return uint32(atomic.LoadUint64(s.f.data) >> nwaitersShift)
	}
	return atomic.LoadUint32(s.f.nwaiters)
}

// InitNarrow and AtNarrow use the 32-bit layout and algorithm, so the
// tests exercise them on 64-bit machines too.
func InitNarrow(mem []byte, value uint32) (*Semaphore, error) {
	return initLayout(mem, value, layoutNarrow)
}

func AtNarrow(mem []byte) (*Semaphore, error) { return atLayout(mem, layoutNarrow) }

// InitWide is Init with the 64-bit layout (64-bit machines only).
func InitWide(mem []byte, value uint32) (*Semaphore, error) {
	return initLayout(mem, value, layoutWide)
}
