package shmmap

import (
	"io/fs"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// ShmOpen opens or creates the POSIX shared memory object name exactly as
// glibc's shm_open(3) does, so C programs using shm_open with the same name
// see the same object: /dev/shm/NAME, leading slashes skipped, an empty name
// or one with a slash inside refused (EINVAL), O_NOFOLLOW|O_CLOEXEC always
// added. flag takes os.O_RDONLY or os.O_RDWR, with os.O_CREATE, os.O_EXCL
// (create-exclusive) and os.O_TRUNC. A new object is empty: give it a size
// with Truncate, then Map it.
func ShmOpen(name string, flag int, perm fs.FileMode) (*os.File, error) {
	return Default.ShmOpen(name, flag, perm)
}

// ShmOpen is ShmOpen through s's implementation.
func (s *System) ShmOpen(name string, flag int, perm fs.FileMode) (*os.File, error) {
	if hasNUL(name) {
		return nil, &fs.PathError{Op: "shm_open", Path: name, Err: syscall.EINVAL}
	}
	fd, err := s.impl.ShmOpen(name, flag, uint32(perm.Perm()))
	if err != nil {
		return nil, &fs.PathError{Op: "shm_open", Path: name, Err: err}
	}
	return os.NewFile(uintptr(fd), shmPath(name)), nil
}

// ShmUnlink removes the POSIX shared memory object name, as shm_unlink(3)
// does. Processes that have it open or mapped keep it until they close it.
func ShmUnlink(name string) error { return Default.ShmUnlink(name) }

// ShmUnlink is ShmUnlink through s's implementation.
func (s *System) ShmUnlink(name string) error {
	if hasNUL(name) {
		return &fs.PathError{Op: "shm_unlink", Path: name, Err: syscall.EINVAL}
	}
	if err := s.impl.ShmUnlink(name); err != nil {
		return &fs.PathError{Op: "shm_unlink", Path: name, Err: err}
	}
	return nil
}

// hasNUL reports whether a name or path holds a NUL byte, which C would take
// as its end: such a name is refused with EINVAL, as the os package and
// golang.org/x/sys/unix do, rather than passed to C (through cshim) as a
// shorter name naming another object.
func hasNUL(name string) bool { return strings.IndexByte(name, 0) >= 0 }

// shmPath is the file behind a shared memory object name.
func shmPath(name string) string {
	for len(name) > 0 && name[0] == '/' {
		name = name[1:]
	}
	return "/dev/shm/" + name
}

// Memfd creates an anonymous file in memory of size bytes (memfd_create
// with MFD_CLOEXEC, then ftruncate). Map it to use it; pass it to a child
// process in exec.Cmd.ExtraFiles to share the memory with it (the child
// maps its descriptor, 3 for the first extra file). It disappears when the
// last descriptor and mapping are gone.
func Memfd(name string, size int64) (*os.File, error) { return Default.Memfd(name, size) }

// Memfd is Memfd through s's implementation.
func (s *System) Memfd(name string, size int64) (*os.File, error) {
	if hasNUL(name) {
		return nil, &fs.PathError{Op: "memfd_create", Path: name, Err: syscall.EINVAL}
	}
	fd, err := s.impl.MemfdCreate(name, unix.MFD_CLOEXEC)
	if err != nil {
		return nil, &fs.PathError{Op: "memfd_create", Path: name, Err: err}
	}
	f := os.NewFile(uintptr(fd), "/memfd:"+name)
	if err := s.impl.Ftruncate(fd, size); err != nil {
		f.Close()
		return nil, &fs.PathError{Op: "ftruncate", Path: f.Name(), Err: err}
	}
	return f, nil
}
