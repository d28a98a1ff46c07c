package posixsem

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

var (
	// ErrWouldBlock is returned by TryWait when the value is 0. It wraps
	// unix.EAGAIN, the errno of sem_trywait.
	ErrWouldBlock = fmt.Errorf("posixsem: semaphore value is zero: %w", unix.EAGAIN)
	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("posixsem: semaphore is closed")
	// ErrNotSemaphore is matched by the error for memory or a sem.NAME file
	// that does not hold a glibc process-shared sem_t: the wrong size, a
	// file that is not a regular file, or fields no glibc semaphore has.
	ErrNotSemaphore = errors.New("not a glibc process-shared semaphore")
	// ErrFault is matched by the error for a memory fault on the semaphore:
	// the file under a named semaphore was truncated by another process
	// (SIGBUS), or the memory under an unnamed one is gone. The process does
	// not crash.
	ErrFault = errors.New("posixsem: memory fault on the semaphore")
)

// Interface checks.
var _ Sem = (*Semaphore)(nil)

// Sem is the method set of a semaphore, implemented by *Semaphore and by
// the glibc-backed semaphores of package csem, so the same code and tests
// run over both.
type Sem interface {
	// Post is sem_post: it adds one to the value and wakes a waiter.
	Post() error
	// Wait is sem_wait: it takes one from the value, blocking while the
	// value is 0.
	Wait() error
	// TryWait is sem_trywait: Wait that fails with ErrWouldBlock instead of
	// blocking.
	TryWait() error
	// WaitContext is sem_timedwait with ctx's deadline; it returns
	// ctx.Err() when it gives up.
	WaitContext(ctx context.Context) error
	// Value is sem_getvalue.
	Value() (int, error)
	// Close is sem_close for a named semaphore; for an unnamed one it only
	// ends the use of the memory (sem_destroy does nothing in glibc).
	Close() error
}

// Error records a failed semaphore operation: the glibc function it stands
// for and the semaphore's name ("" for an unnamed one). Err is a
// syscall.Errno or one of this package's errors.
type Error struct {
	Op   string // "sem_post", "sem_wait", "sem_init", ..., or "posixsem.At"
	Name string
	Err  error
}

func (e *Error) Error() string {
	if e.Name == "" {
		return e.Op + ": " + e.Err.Error()
	}
	return e.Op + " " + e.Name + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// FaultError is the error behind ErrFault: the address that faulted.
type FaultError struct {
	Addr uintptr
}

func (e *FaultError) Error() string {
	return fmt.Sprintf("%v at address %#x (the file was truncated or the memory unmapped under it)", ErrFault, e.Addr)
}

// Is reports whether target is ErrFault.
func (e *FaultError) Is(target error) bool { return target == ErrFault }

// notSem returns an error matching ErrNotSemaphore with the reason.
func notSem(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrNotSemaphore}, args...)...)
}
