package posixsem

import (
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"strings"

	"golang.org/x/sys/unix"
)

const (
	shmDir    = "/dev/shm/"
	semPrefix = "sem."
	// shmNameBuf is sizeof(struct shmdir_name): SHMDIR with its NUL, the
	// "sem." prefix and NAME_MAX.
	shmNameBuf = len(shmDir) + 1 + len(semPrefix) + unix.NAME_MAX
)

// Path returns the file glibc uses for the named semaphore name,
// /dev/shm/sem.NAME, and whether name is valid: __shm_get_name with the
// "sem." prefix skips leading slashes and refuses an empty name, one with
// another slash, and one too long for its buffer (more than NAME_MAX bytes).
// The same rules as shm_open's (package purego), with the prefix.
func Path(name string) (string, bool) {
	name = strings.TrimLeft(name, "/")
	if name == "" || strings.IndexByte(name, '/') >= 0 || len(shmDir)+len(semPrefix)+len(name)+1 > shmNameBuf {
		return "", false
	}
	return shmDir + semPrefix + name, true
}

// Open is sem_open(3) as glibc implements it: it opens the named semaphore
// /dev/shm/sem.NAME (see Path), creating it with the permission bits perm
// (less the umask) and the given value when flag has os.O_CREATE and it
// does not exist; os.O_CREATE|os.O_EXCL fails with EEXIST if it exists. A
// new semaphore appears fully initialised (it is written under a temporary
// name and linked into place). An invalid name, or a value above ValueMax
// when creating, is EINVAL. An existing file that is not a semaphore (a
// zero-length file, the wrong size, garbage) is an error matching
// ErrNotSemaphore, where glibc would map it and crash on first use.
//
// Errors are *fs.PathError with Op "sem_open" and the name as Path,
// wrapping the errno: errors.Is(err, fs.ErrExist), fs.ErrNotExist and
// fs.ErrPermission work.
func Open(name string, flag int, perm fs.FileMode, value uint32) (*Semaphore, error) {
	s, err := open(name, flag, perm, value, nativeLayout())
	if err != nil {
		return nil, &fs.PathError{Op: "sem_open", Path: name, Err: err}
	}
	return s, nil
}

func open(name string, flag int, perm fs.FileMode, value uint32, l layout) (*Semaphore, error) {
	path, ok := Path(name)
	if !ok {
		return nil, unix.EINVAL
	}
	creat, excl := flag&unix.O_CREAT != 0, flag&unix.O_EXCL != 0
	for {
		if !creat || !excl {
			// The semaphore has to exist (or may): simply open it.
			fd, err := unix.Open(path, flag&^(unix.O_CREAT|unix.O_ACCMODE)|unix.O_NOFOLLOW|unix.O_RDWR|unix.O_CLOEXEC, 0)
			if err == nil {
				return mapExisting(name, path, fd, l)
			}
			if !creat || err != unix.ENOENT {
				return nil, err
			}
		}
		s, err := create(name, path, excl, perm, value, l)
		if err == errRaced {
			continue // the link found a semaphore made meanwhile: open it
		}
		return s, err
	}
}

// errRaced reports that another process created the semaphore between
// the open and the link, without O_EXCL.
var errRaced = errors.New("raced")

// create is sem_open's creation path.
func create(name, path string, excl bool, perm fs.FileMode, value uint32, l layout) (*Semaphore, error) {
	if value > ValueMax {
		return nil, unix.EINVAL
	}
	init := initContents(value, l)

	// Like mktemp with SHMDIR "sem.XXXXXX": the mode must be given to
	// open so that the umask applies.
	var tmp string
	var fd int
	for retries := 0; ; retries++ {
		if retries == 50 { // NRETRIES
			return nil, unix.EAGAIN
		}
		tmp = shmDir + semPrefix + randomSuffix()
		var err error
		fd, err = unix.Open(tmp, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, unixMode(perm))
		if err == nil {
			break
		}
		if err != unix.EEXIST {
			return nil, err
		}
	}
	// Now remove the temporary name whatever happens.
	defer unix.Close(fd)
	defer unix.Unlink(tmp)

	if err := writeAll(fd, init); err != nil {
		return nil, err
	}
	mem, err := unix.Mmap(fd, 0, l.size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	// Create the file; never overwrite an existing one.
	if err := unix.Link(tmp, path); err != nil {
		unix.Munmap(mem)
		if !excl && err == unix.EEXIST {
			return nil, errRaced
		}
		return nil, err
	}
	return newSemaphore(name, mem, l, true), nil
}

// mapExisting maps the semaphore file open at fd, which it closes, after
// checking that it holds a semaphore.
func mapExisting(name, path string, fd int, l layout) (*Semaphore, error) {
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, notSem("%s: not a regular file (mode %#o)", path, st.Mode)
	}
	if st.Size != int64(l.size) {
		hint := ""
		switch {
		case st.Size == 0:
			hint = " (an empty file: not made by sem_open, which writes the sem_t before the name appears)"
		case l.wide && st.Size == narrowSize:
			hint = " (a 32-bit process's sem_t: 32-bit and 64-bit processes cannot share a semaphore)"
		case !l.wide && st.Size == wideSize:
			hint = " (a 64-bit process's sem_t: 32-bit and 64-bit processes cannot share a semaphore)"
		}
		return nil, notSem("%s: %d bytes, a sem_t is %d%s", path, st.Size, l.size, hint)
	}
	mem, err := unix.Mmap(fd, 0, l.size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	s := newSemaphore(name, mem, l, true)
	if err := s.run("sem_open", func() error { return checkContents(mem, l, path) }); err != nil {
		s.Close()
		if e, ok := err.(*Error); ok {
			err = e.Err // a fault: the PathError names the operation
		}
		return nil, err
	}
	return s, nil
}

// Unlink is sem_unlink(3) as glibc implements it: it removes the name of
// the semaphore; processes that have it open keep using it. A name Open
// would refuse is ENOENT, and EPERM is reported as EACCES. Errors are
// *fs.PathError with Op "sem_unlink".
func Unlink(name string) error {
	path, ok := Path(name)
	if !ok {
		return &fs.PathError{Op: "sem_unlink", Path: name, Err: unix.ENOENT}
	}
	err := unix.Unlink(path)
	if err == unix.EPERM {
		err = unix.EACCES
	}
	if err != nil {
		return &fs.PathError{Op: "sem_unlink", Path: name, Err: err}
	}
	return nil
}

// randomSuffix is mktemp's XXXXXX.
func randomSuffix() string {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	var b [6]byte
	for i := range b {
		b[i] = letters[rand.IntN(len(letters))]
	}
	return string(b[:])
}

// unixMode is the mode_t for perm.
func unixMode(perm fs.FileMode) uint32 {
	m := uint32(perm.Perm())
	if perm&fs.ModeSetuid != 0 {
		m |= unix.S_ISUID
	}
	if perm&fs.ModeSetgid != 0 {
		m |= unix.S_ISGID
	}
	if perm&fs.ModeSticky != 0 {
		m |= unix.S_ISVTX
	}
	return m
}

// writeAll is TEMP_FAILURE_RETRY(write(fd, b, len(b))) == len(b).
func writeAll(fd int, b []byte) error {
	for {
		n, err := unix.Write(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n != len(b) {
			return io.ErrShortWrite
		}
		return nil
	}
}
