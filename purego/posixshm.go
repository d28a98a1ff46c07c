package purego

import (
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// shmDir is glibc's SHMDIR, where POSIX shared memory objects live.
const shmDir = "/dev/shm/"

// shmNameBuf is the size of glibc's struct shmdir_name buffer:
// sizeof(SHMDIR) + sizeof("sem.") - 1 + NAME_MAX.
const shmNameBuf = len(shmDir) + 1 + 4 + unix.NAME_MAX

// shmName is glibc's __shm_get_name: skip leading slashes, then refuse an
// empty name, one with a slash inside, and one whose path with its NUL does
// not fit glibc's buffer (names of 260 bytes or more). glibc reports a
// refused name as EINVAL from shm_open and ENOENT from shm_unlink.
func shmName(name string) (string, bool) {
	name = strings.TrimLeft(name, "/")
	if name == "" || strings.IndexByte(name, '/') >= 0 || len(shmDir)+len(name)+1 > shmNameBuf {
		return "", false
	}
	return shmDir + name, true
}

// ShmOpen is shm_open(3) as glibc implements it: open /dev/shm/NAME with
// O_NOFOLLOW|O_CLOEXEC added to flag; EISDIR is reported as EINVAL.
func ShmOpen(name string, flag int, mode uint32) (int, error) {
	path, ok := shmName(name)
	if !ok {
		return -1, syscall.EINVAL
	}
	fd, err := unix.Open(path, flag|unix.O_NOFOLLOW|unix.O_CLOEXEC, mode)
	if err == unix.EISDIR {
		err = syscall.EINVAL
	}
	if err != nil {
		return -1, errnoOf(err)
	}
	return fd, nil
}

// ShmUnlink is shm_unlink(3) as glibc implements it: unlink /dev/shm/NAME;
// a name shm_open would refuse is ENOENT, and EPERM is reported as EACCES.
func ShmUnlink(name string) error {
	path, ok := shmName(name)
	if !ok {
		return syscall.ENOENT
	}
	err := unix.Unlink(path)
	if err == unix.EPERM {
		err = syscall.EACCES
	}
	return errnoOf(err)
}

// MemfdCreate is memfd_create(2).
func MemfdCreate(name string, flags int) (int, error) {
	fd, err := unix.MemfdCreate(name, flags)
	if err != nil {
		return -1, errnoOf(err)
	}
	return fd, nil
}
