package shmtest

import (
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

// mountTmpfs mounts the private /dev/shm (a variable so that the package's
// tests can make it fail).
var mountTmpfs = unix.Mount

// privateDevShms holds the device numbers of the tmpfs file systems
// Isolate mounted on /dev/shm for the tests that are running, so that
// NoLeaks knows a /dev/shm is the test's own. (The device number, not the
// mount namespace: a test may enter a further mount namespace of its own,
// which still has the same /dev/shm.)
var privateDevShms sync.Map

// mountNamespace is a thread's mount namespace and root directory, held
// open so that other threads can enter them.
type mountNamespace struct {
	ns     int // /proc/thread-self/ns/mnt
	root   int // "/", the thread's root directory (O_PATH)
	ino    uint64
	devShm uint64 // the device of the private /dev/shm mounted there, if any
}

// currentMountNamespace opens the calling thread's mount namespace and root
// directory. The thread must be locked, or be one of the threads that
// share the process's namespace and root.
func currentMountNamespace() (*mountNamespace, error) {
	ns, err := unix.Open("/proc/thread-self/ns/mnt", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open /proc/thread-self/ns/mnt: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(ns, &st); err != nil {
		unix.Close(ns)
		return nil, fmt.Errorf("stat /proc/thread-self/ns/mnt: %w", err)
	}
	root, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(ns)
		return nil, fmt.Errorf("open /: %w", err)
	}
	return &mountNamespace{ns: ns, root: root, ino: st.Ino}, nil
}

func (m *mountNamespace) close() {
	unix.Close(m.ns)
	unix.Close(m.root)
}

// enter moves the calling thread, which must be locked to its goroutine
// for good, into m, keeping its working directory. It does nothing if the
// thread is there already.
//
// setns(CLONE_NEWNS) refuses a thread that shares its file system
// attributes (root, working directory, umask) with other threads, as every
// thread of a Go program does: unshare(CLONE_FS) gives this one a copy of
// its own first. setns then puts the thread at the namespace's root
// directory, so enter goes to m's root (chroot: m's thread may itself be
// in a chroot) and back to the working directory the thread had, looked up
// by name in the new namespace (or, failing that, the same directory as
// before).
func (m *mountNamespace) enter() error {
	if ino, err := threadMountNamespace(); err == nil && ino == m.ino {
		return nil
	}
	wd, wdErr := unix.Getwd()
	dot, dotErr := unix.Open(".", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if dotErr == nil {
		defer unix.Close(dot)
	}
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return fmt.Errorf("unshare(CLONE_FS): %w", err)
	}
	if err := unix.Setns(m.ns, unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("setns(CLONE_NEWNS): %w", err)
	}
	if err := unix.Fchdir(m.root); err != nil {
		return fmt.Errorf("entering the root directory: fchdir: %w", err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("entering the root directory: chroot: %w", err)
	}
	if wdErr == nil && unix.Chdir(wd) == nil {
		return nil
	}
	if dotErr == nil && unix.Fchdir(dot) == nil {
		return nil
	}
	if wdErr != nil {
		return fmt.Errorf("returning to the working directory: getcwd: %w", wdErr)
	}
	return fmt.Errorf("returning to the working directory %s: it cannot be entered", wd)
}

// privateDevShm gives the calling thread, which must be locked to its
// goroutine for good, a mount namespace of its own (unshare(CLONE_NEWNS),
// which unshares its file system attributes too) whose mounts are private
// (no mount or unmount propagates to or from the machine's namespace), and
// mounts a new, empty tmpfs on /dev/shm there, mode 1777, with the same
// size and inode limits and nosuid, nodev and noexec flags as the
// machine's /dev/shm. It returns the new namespace.
//
// If a step fails, the thread is put back into the namespace it was in
// (where setns allows; otherwise it stays in a copy of it, which has the
// same /dev/shm) and the error says which step failed.
func privateDevShm() (*mountNamespace, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(devShm, &st); err != nil {
		return nil, fmt.Errorf("statfs %s: %w", devShm, err)
	}
	opts := "mode=1777"
	if int64(st.Type) == unix.TMPFS_MAGIC {
		opts += fmt.Sprintf(",size=%d,nr_inodes=%d", st.Blocks*uint64(st.Bsize), st.Files)
	}
	var flags uintptr
	for _, f := range []struct{ st, ms int }{
		{unix.ST_NOSUID, unix.MS_NOSUID},
		{unix.ST_NODEV, unix.MS_NODEV},
		{unix.ST_NOEXEC, unix.MS_NOEXEC},
	} {
		if int64(st.Flags)&int64(f.st) != 0 {
			flags |= uintptr(f.ms)
		}
	}

	home, err := currentMountNamespace()
	if err != nil {
		return nil, err
	}
	defer home.close()
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return nil, fmt.Errorf("unshare(CLONE_NEWNS): %w", err)
	}
	fail := func(err error) (*mountNamespace, error) {
		if back := home.enter(); back != nil {
			return nil, fmt.Errorf("%w (and going back to the original mount namespace failed: %v; the thread stays in a copy of it, which shares its /dev/shm)", err, back)
		}
		return nil, err
	}
	mnt, err := currentMountNamespace()
	if err != nil {
		return fail(err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		mnt.close()
		return fail(fmt.Errorf("making the mounts private: mount(/, MS_REC|MS_PRIVATE): %w", err))
	}
	if err := mountTmpfs("shmtest", devShm, "tmpfs", flags, opts); err != nil {
		mnt.close()
		return fail(fmt.Errorf("mount -t tmpfs -o %s shmtest %s: %w", opts, devShm, err))
	}
	if mnt.devShm, err = devShmDevice(); err != nil || mnt.devShm == 0 {
		mnt.close()
		if err == nil {
			err = fmt.Errorf("%s: %w", devShm, unix.ENOENT)
		}
		return fail(fmt.Errorf("after the mount: %w", err))
	}
	return mnt, nil
}

// devShmDevice returns the device number of the file system at /dev/shm
// as the calling thread sees it, 0 if there is no /dev/shm.
func devShmDevice() (uint64, error) {
	var st unix.Stat_t
	err := unix.Stat(devShm, &st)
	if errors.Is(err, unix.ENOENT) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("stat %s: %w", devShm, err)
	}
	return uint64(st.Dev), nil
}

// threadMountNamespace returns the inode of the calling thread's mount
// namespace.
func threadMountNamespace() (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/mnt", &st); err != nil {
		return 0, fmt.Errorf("stat /proc/thread-self/ns/mnt: %w", err)
	}
	return st.Ino, nil
}
