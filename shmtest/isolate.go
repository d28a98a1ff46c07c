package shmtest

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// Namespace is a private System V IPC namespace made by Isolate, with,
// where Isolate could make one, a private /dev/shm (PrivateDevShm). Its
// methods let other goroutines — subtests, background goroutines — work in
// the same namespaces as the test that made it.
type Namespace struct {
	ino uint64
	mnt *mountNamespace // the isolated thread's mount namespace; nil if /dev/shm is the machine's

	mu     sync.Mutex
	file   *os.File // the isolated thread's /proc/thread-self/ns/ipc, open until the test ends
	fd     int
	closed bool
}

// Isolate puts the calling test into a new, empty System V IPC namespace,
// and gives it a /dev/shm of its own, for the rest of its life, and
// returns the namespace. Keys such as 0x1234 and POSIX names such as
// "/ring" then cannot collide with other tests or with anything else on
// the machine, NoLeaks sees only what the test made, and whatever the test
// leaves behind is destroyed with the namespaces: once the test's
// goroutine has ended and the last process inside has exited, the kernel
// removes every segment, semaphore set and message queue in the IPC
// namespace and unmounts the private /dev/shm with everything in it.
//
// Isolate locks the calling goroutine to its OS thread
// (runtime.LockOSThread) and calls unshare(CLONE_NEWIPC), which changes
// that thread only. For /dev/shm, which belongs to the mount namespace and
// not the IPC one, it then calls unshare(CLONE_NEWNS) on the same thread,
// makes every mount in the new mount namespace private, so that nothing it
// mounts propagates to the machine (mount("", "/", "", MS_REC|MS_PRIVATE,
// "")), and mounts a new, empty tmpfs on /dev/shm: mode 1777 like the
// machine's, with its size and inode limits and its nosuid, nodev and
// noexec flags. Only /dev/shm differs from the machine's file system. The thread is never
// unlocked, so the runtime terminates it when the goroutine ends instead
// of handing it to other goroutines; and the runtime never starts a new
// thread by cloning a locked one (it asks a clean template thread to), so
// the namespaces cannot leak to other goroutines. (The one exception is
// the process's main thread, which the runtime never ends: if the test's
// goroutine happened to run there, the thread stays in the namespaces,
// idle, until the test binary exits, and so do what the test left in
// them.)
//
// unshare(CLONE_NEWNS) also gives the thread its own working directory,
// root directory and umask (CLONE_FS), copies of the process's: an
// os.Chdir (or t.Chdir) by the test after Isolate moves the test's
// goroutine and the processes it starts, not the rest of the test binary;
// call t.Chdir before Isolate to move everything.
//
// Inside the namespaces are exactly:
//
//   - the calling goroutine (call Isolate from the test's own goroutine,
//     first thing in the test);
//   - every System V IPC call that goroutine makes (shared memory,
//     semaphores, message queues; POSIX message queues too), by system call
//     (purego, golang.org/x/sys/unix) or through cgo: both run on the
//     locked thread;
//   - every use of /dev/shm by that goroutine, by path or through
//     shm_open, sem_open, shmmap.ShmOpen or posixsem: a path is resolved
//     in the mount namespace of the thread that makes the system call;
//   - reads of /proc/sysvipc/* and /dev/shm by that goroutine (so
//     ipcs-like listings and NoLeaks see the namespaces);
//   - every process started from that goroutine (exec.Cmd.Start forks from
//     the calling thread; Start, Run and Process in this package do too),
//     and all their descendants;
//   - the test's cleanups (t.Cleanup): the testing package runs them on the
//     test's goroutine after the test function returns or calls FailNow,
//     and after its subtests have finished. (The exception is a panicking
//     subtest: its parents' cleanups then run on the panicking goroutine
//     just before the test binary dies.)
//   - the goroutines started with ns.Go, subtests that call ns.Join, and
//     the code DoAs and DoUnprivileged run when called from the test's
//     goroutine: they join both namespaces.
//
// Outside them are:
//
//   - other goroutines, including the ones the test starts with the go
//     statement: use ns.Go, or they work in the machine's namespace and
//     the machine's /dev/shm, and do not see the test's POSIX objects;
//   - subtests: t.Run runs each on a new goroutine; a subtest calls
//     Isolate itself for namespaces of its own, or ns.Join to share its
//     parent's.
//
// Keep TMPDIR out of /dev/shm: a t.TempDir, or BuildC's directory of
// programs, made there by an isolated test would be in its private
// /dev/shm, out of sight of the rest of the test binary.
//
// Where namespaces are not permitted (unshare(CLONE_NEWIPC) fails with
// EPERM, EINVAL or ENOSYS: not root, no CAP_SYS_ADMIN, or a kernel without
// CONFIG_IPC_NS) Isolate skips the test with t.Skipf, saying why. Where the
// IPC namespace can be made but the private /dev/shm cannot (no mount
// namespaces or no right to mount, no /dev/shm, a chroot whose root is not
// a mount point), Isolate does not skip: the test gets its IPC namespace
// and keeps the machine's /dev/shm, PrivateDevShm reports false, Isolate
// says why with t.Logf, and NoLeaks warns that a /dev/shm entry it blames
// may belong to another test.
func Isolate(t testing.TB) *Namespace {
	t.Helper()
	runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
	if err := unix.Unshare(unix.CLONE_NEWIPC); err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
			t.Skipf("shmtest.Isolate: cannot create a private System V IPC namespace: unshare(CLONE_NEWIPC): %v; "+
				"run the tests as root (sudo go test) or give them CAP_SYS_ADMIN", err)
		}
		t.Fatalf("shmtest.Isolate: unshare(CLONE_NEWIPC): %v", err)
	}
	f, err := os.Open("/proc/thread-self/ns/ipc")
	if err != nil {
		t.Fatalf("shmtest.Isolate: open the new namespace: %v", err)
	}
	ino, err := inodeOf(f)
	if err != nil {
		f.Close()
		t.Fatalf("shmtest.Isolate: %v", err)
	}
	ns := &Namespace{ino: ino, file: f, fd: int(f.Fd())}
	if mnt, err := privateDevShm(); err != nil {
		t.Logf("shmtest.Isolate: /dev/shm stays the machine's (NoLeaks may blame the test for another's POSIX objects): %v", err)
	} else {
		ns.mnt = mnt
		privateDevShms.Store(mnt.devShm, true)
	}
	isolated.Store(ino, true)
	t.Cleanup(ns.close)
	return ns
}

// Inode is the namespace's inode number, the number in the
// "ipc:[4026532290]" that /proc/PID/ns/ipc links to: two processes or
// threads are in the same namespace exactly when these agree.
func (ns *Namespace) Inode() uint64 { return ns.ino }

// String returns the namespace as /proc/PID/ns/ipc names it, such as
// "ipc:[4026532290]".
func (ns *Namespace) String() string { return fmt.Sprintf("ipc:[%d]", ns.ino) }

// PrivateDevShm reports whether the test has a /dev/shm of its own: true
// where Isolate could mount one, false where the test shares the
// machine's (Isolate's t.Logf says why).
func (ns *Namespace) PrivateDevShm() bool { return ns.mnt != nil }

// Join moves the calling goroutine into ns, and into its private /dev/shm,
// as Isolate moved the test that made it: it locks the goroutine to its OS
// thread for good and calls setns. The goroutine keeps its working
// directory. A subtest calls it first thing to share its parent's
// namespace:
//
//	ns := shmtest.Isolate(t)
//	t.Run("reader", func(t *testing.T) {
//		ns.Join(t)
//		...
//	})
//
// Join fails the test if the test that made ns has ended.
func (ns *Namespace) Join(t testing.TB) {
	t.Helper()
	runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
	if err := ns.enter(); err != nil {
		t.Fatalf("shmtest: join %v: %v", ns, err)
	}
}

// Go runs fn on a new goroutine whose OS thread has joined ns (and its
// private /dev/shm, as Join does), and returns a channel that is closed
// when fn returns. Use it for goroutines that make IPC calls on behalf of
// an isolated test (a Go peer holding a semaphore, a consumer reading a
// ring): an ordinary goroutine would make them in the machine's namespace
// and the machine's /dev/shm. Go returns once the goroutine is inside, so it fails
// the test (t.Fatalf) from the caller's goroutine if it cannot join.
//
// As in any goroutine other than the test's, fn must not call t.FailNow,
// t.Fatal or t.Skip; it may call t.Error and t.Log while the test runs.
// Processes fn starts are in ns too.
func (ns *Namespace) Go(t testing.TB, fn func()) <-chan struct{} {
	t.Helper()
	joined := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		if err := ns.enter(); err != nil {
			joined <- err
			return
		}
		joined <- nil
		fn()
	}()
	if err := <-joined; err != nil {
		t.Fatalf("shmtest: join %v: %v", ns, err)
	}
	return done
}

// enter moves the calling thread, which must be locked for good, into the
// IPC namespace and, if the test has one, its mount namespace.
func (ns *Namespace) enter() error {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if ns.closed {
		return errors.New("the test that made it has ended")
	}
	if err := unix.Setns(ns.fd, unix.CLONE_NEWIPC); err != nil {
		return fmt.Errorf("setns: %w", err)
	}
	if ns.mnt != nil {
		if err := ns.mnt.enter(); err != nil {
			return fmt.Errorf("entering its private /dev/shm: %w", err)
		}
	}
	return nil
}

func (ns *Namespace) close() {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if ns.closed {
		return
	}
	ns.closed = true
	ns.file.Close()
	isolated.Delete(ns.ino)
	if ns.mnt != nil {
		privateDevShms.Delete(ns.mnt.devShm)
		ns.mnt.close()
	}
}

// isolated holds the inodes of the namespaces Isolate made that are in
// use, for NoLeaks's advice.
var isolated sync.Map

// threadNamespace returns the inode of the calling thread's IPC namespace.
func threadNamespace() (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/ipc", &st); err != nil {
		return 0, fmt.Errorf("stat /proc/thread-self/ns/ipc: %w", err)
	}
	return st.Ino, nil
}

func inodeOf(f *os.File) (uint64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, fmt.Errorf("stat %s: no inode", f.Name())
	}
	return st.Ino, nil
}
