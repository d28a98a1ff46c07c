package shmmap

import (
	"fmt"
	"io/fs"
	"syscall"
)

// A Key names a System V IPC object, as C's key_t does. Processes that agree
// on a key find the same segment.
type Key int32

// IPCPrivate is IPC_PRIVATE: a key that always creates a new segment that no
// other process can find by key (only by ID, or by inheriting an
// attachment).
const IPCPrivate Key = 0

// String formats the key as ipcs(1) and /proc/sysvipc/shm do: 0x and eight
// hex digits of its 32 bits.
func (k Key) String() string { return fmt.Sprintf("0x%08x", uint32(k)) }

// Ftok derives a key from an existing file and a project id, exactly as
// glibc's ftok(3) does, so a C program calling ftok(path, proj) gets the same
// key. Only the low 8 bits of proj are used; proj ids of 0x80 and above give
// a negative key, as in C. The file's inode and device number are used, so
// the key changes if the file is replaced.
func Ftok(path string, proj int) (Key, error) { return Default.Ftok(path, proj) }

// Ftok is Ftok through s's implementation.
func (s *System) Ftok(path string, proj int) (Key, error) {
	if hasNUL(path) {
		return 0, &fs.PathError{Op: "ftok", Path: path, Err: syscall.EINVAL}
	}
	k, err := s.impl.Ftok(path, proj)
	if err != nil {
		return 0, &fs.PathError{Op: "ftok", Path: path, Err: err}
	}
	return Key(k), nil
}
