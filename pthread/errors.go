package pthread

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

var (
	// ErrOwnerDead is matched by the error of Lock, LockContext and
	// TryLock on a robust mutex whose previous owner died holding it
	// (pthread_mutex_lock's EOWNERDEAD; errors.Is(err, unix.EOWNERDEAD)
	// holds too). The mutex is then held by the caller, in an inconsistent
	// state: call Consistent before Unlock to keep it usable, or Unlock at
	// once to make it not recoverable for every process.
	ErrOwnerDead = fmt.Errorf("pthread: the owner of the robust mutex died holding it; it is now held inconsistent, call Consistent: %w", unix.EOWNERDEAD)
	// ErrNotRecoverable is matched by the error of locking a robust mutex
	// that was unlocked without Consistent after its owner died
	// (ENOTRECOVERABLE; errors.Is(err, unix.ENOTRECOVERABLE) holds too).
	// Such a mutex can only be initialised again.
	ErrNotRecoverable = fmt.Errorf("pthread: the robust mutex is not recoverable (unlocked without Consistent after its owner died): %w", unix.ENOTRECOVERABLE)
	// ErrNotShared is matched by the error of MutexAt (CondAt) for a mutex
	// (condition variable) that is not process-shared
	// (pthread_mutexattr_setpshared or pthread_condattr_setpshared was not
	// given PTHREAD_PROCESS_SHARED), including all-zero memory: its futex
	// operations are private to one process, so no other process could
	// wake a waiter.
	ErrNotShared = errors.New("pthread: not a process-shared mutex or condition variable")
	// ErrUnsupported is matched by the error of InitMutex and MutexAt for a
	// mutex this package does not implement (priority inheritance or
	// protection: PTHREAD_PRIO_INHERIT, PTHREAD_PRIO_PROTECT) and of
	// MutexAt for memory that holds no glibc mutex of a known kind
	// (garbage), and of CondAt for a condition variable in a state glibc
	// never leaves it in. It wraps errors.ErrUnsupported.
	ErrUnsupported = fmt.Errorf("pthread: unsupported or unknown mutex or condition variable: %w", errors.ErrUnsupported)
)

// Error records a failed mutex operation: the glibc function it stands for
// and why. Err is a syscall.Errno (EDEADLK, EPERM, EBUSY, EINVAL, EAGAIN)
// or one of this package's errors, which wrap the errno glibc would
// return, so errors.Is(err, unix.EDEADLK) and errors.Is(err, ErrOwnerDead)
// both work.
type Error struct {
	Op  string // "pthread_mutex_lock", "pthread_mutex_unlock", ..., "pthread.MutexAt"
	Err error
}

func (e *Error) Error() string { return e.Op + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// invalid returns an error matching ErrUnsupported with the reason.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnsupported}, args...)...)
}
