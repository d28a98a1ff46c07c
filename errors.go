package shmmap

import (
	"errors"
	"fmt"
)

var (
	// ErrClosed is returned by every method of an Attachment after Detach
	// and of a Mapping after Close.
	ErrClosed = errors.New("shmmap: use of detached or closed memory")
	// ErrReadOnly is returned by WriteAt on memory attached or mapped
	// read-only.
	ErrReadOnly = errors.New("shmmap: write to read-only memory")
	// ErrFault is returned when the memory could not be accessed: the file
	// under a mapping was truncated by another process (SIGBUS), the backing
	// tmpfs is full, or the pages are not accessible (SIGSEGV). The process
	// does not crash.
	ErrFault = errors.New("shmmap: memory fault")
	// ErrOutOfRange is returned for a negative offset, or one past the end
	// of the memory.
	ErrOutOfRange = errors.New("shmmap: offset out of range")
)

// SegmentError records an error and the operation and segment that caused
// it, in the style of fs.PathError. Err is the errno (a syscall.Errno) or
// one of this package's errors, so errors.Is(err, fs.ErrNotExist),
// errors.Is(err, fs.ErrPermission), errors.Is(err, unix.EINVAL) and the like
// work.
type SegmentError struct {
	Op  string // "shmget", "shmat", "shmdt", "shmctl IPC_STAT", "read", ...
	Key Key    // the segment's key (IPCPrivate if not known or private)
	ID  int    // the segment's id, -1 if not known
	Err error
}

func (e *SegmentError) Error() string {
	if e.ID < 0 {
		return fmt.Sprintf("%s key %v: %v", e.Op, e.Key, e.Err)
	}
	return fmt.Sprintf("%s key %v id %d: %v", e.Op, e.Key, e.ID, e.Err)
}

// Unwrap returns the underlying error.
func (e *SegmentError) Unwrap() error { return e.Err }

// FaultError is the error behind ErrFault: the address that faulted.
type FaultError struct {
	Addr uintptr
}

func (e *FaultError) Error() string {
	return fmt.Sprintf("%v at address %#x (file truncated under the mapping, tmpfs full, or no access)", ErrFault, e.Addr)
}

// Is reports whether target is ErrFault.
func (e *FaultError) Is(target error) bool { return target == ErrFault }
