package shmtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// Nobody is the uid and the gid of the unprivileged user, nobody and
// nogroup (65534 on Debian, Ubuntu, Fedora and most Linux systems).
const Nobody = 65534

// AsUser makes cmd run as uid and gid with no supplementary groups (it sets
// cmd.SysProcAttr.Credential, making SysProcAttr if need be) and returns
// cmd. Only root may start such a process (call RequireRoot first); the
// program must be one that uid may execute, as BuildC's and BuildGo's are,
// in a directory it may enter (cmd.Dir; SharedDir makes one).
func AsUser(cmd *exec.Cmd, uid, gid int) *exec.Cmd {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
	return cmd
}

// Unprivileged makes cmd run as the unprivileged user: AsUser(cmd, Nobody,
// Nobody).
func Unprivileged(cmd *exec.Cmd) *exec.Cmd { return AsUser(cmd, Nobody, Nobody) }

// RequireRoot skips the test unless it runs as root, which AsUser,
// Unprivileged, DoAs and DoUnprivileged need to take on another uid.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("shmtest.RequireRoot: running as uid %d; only root can run code as another user: run the tests as root", os.Geteuid())
	}
}

// DoAs runs fn on a new OS thread whose credentials are uid and gid, with
// no supplementary groups and so no capabilities, and returns when fn
// returns. Every IPC permission check applies to the calls fn makes on that
// thread, by system call or cgo: Linux keeps credentials per thread, and
// DoAs changes them with raw system calls on that thread alone (the libc
// and Go wrappers change every thread of the process). The thread is thrown
// away afterwards; the rest of the test keeps its own credentials.
//
// The thread first joins the calling thread's IPC namespace and mount
// namespace (so its /dev/shm), keeping the working directory, so after
// Isolate, DoAs from the test's goroutine runs fn in the test's namespace
// and with the test's private /dev/shm. Goroutines fn starts run
// elsewhere, with the test's credentials; processes it starts run as uid.
//
// fn runs on another goroutine: it must not call t.FailNow, t.Fatal or
// t.Skip (if it does, or panics, DoAs fails the test). Without the
// privilege to switch users (not root) DoAs skips the test.
func DoAs(t testing.TB, uid, gid int, fn func()) {
	t.Helper()
	// Both from the same thread: the caller's, if it is locked (after
	// Isolate), or one of the threads in the process's namespaces.
	runtime.LockOSThread()
	ns, err := os.Open("/proc/thread-self/ns/ipc")
	var mnt *mountNamespace
	if err == nil {
		if mnt, err = currentMountNamespace(); err != nil {
			ns.Close()
		}
	}
	runtime.UnlockOSThread() // the caller's own lock, if any, stays
	if err != nil {
		t.Fatalf("shmtest.DoAs: open the caller's namespaces: %v", err)
	}
	defer ns.Close()
	defer mnt.close()
	type outcome struct {
		setup    error
		returned bool
		panicked any
		stack    []byte
	}
	done := make(chan outcome, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		var o outcome
		defer func() { done <- o }()
		if o.setup = becomeUser(ns, mnt, uid, gid); o.setup != nil {
			return
		}
		defer func() {
			if r := recover(); r != nil {
				o.panicked, o.stack = r, debug.Stack()
			}
		}()
		fn()
		o.returned = true
	}()
	o := <-done
	switch {
	case errors.Is(o.setup, unix.EPERM):
		t.Skipf("shmtest.DoAs: cannot run as uid %d gid %d: %v; run the tests as root", uid, gid, o.setup)
	case o.setup != nil:
		t.Fatalf("shmtest.DoAs: becoming uid %d gid %d on one thread: %v", uid, gid, o.setup)
	case o.panicked != nil:
		t.Fatalf("shmtest.DoAs: fn panicked: %v\n%s", o.panicked, o.stack)
	case !o.returned:
		t.Fatalf("shmtest.DoAs: fn called runtime.Goexit (t.FailNow, t.Fatal or t.Skip on a goroutine other than the test's)")
	}
}

// DoUnprivileged is DoAs(t, Nobody, Nobody, fn).
func DoUnprivileged(t testing.TB, fn func()) { t.Helper(); DoAs(t, Nobody, Nobody, fn) }

// becomeUser moves the calling (locked) thread into the IPC namespace ns
// and the mount namespace mnt, if it is not there already, and then to uid
// and gid.
func becomeUser(ns *os.File, mnt *mountNamespace, uid, gid int) error {
	want, err := inodeOf(ns)
	if err != nil {
		return err
	}
	have, err := threadNamespace()
	if err != nil {
		return err
	}
	if have != want {
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWIPC); err != nil {
			return fmt.Errorf("setns: %w", err)
		}
	}
	if err := mnt.enter(); err != nil {
		return fmt.Errorf("joining the mount namespace (/dev/shm): %w", err)
	}
	// Raw system calls: they change this thread only.
	if _, _, e := unix.RawSyscall(sysSetgroups, 0, 0, 0); e != 0 {
		return fmt.Errorf("setgroups: %w", e)
	}
	if _, _, e := unix.RawSyscall(sysSetresgid, uintptr(gid), uintptr(gid), uintptr(gid)); e != 0 {
		return fmt.Errorf("setresgid: %w", e)
	}
	if _, _, e := unix.RawSyscall(sysSetresuid, uintptr(uid), uintptr(uid), uintptr(uid)); e != 0 {
		return fmt.Errorf("setresuid: %w", e)
	}
	return nil
}

// SharedDir returns a new directory that every user may enter and read
// (mode 0755), removed when the test ends: a working directory for
// processes run as another user, which cannot enter t.TempDir's
// directories (mode 0700). Files the test puts in it are still the test's
// to open up with os.Chmod.
func SharedDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "shmtest-dir-")
	if err == nil {
		err = os.Chmod(dir, 0o755)
	}
	if err != nil {
		t.Fatalf("shmtest.SharedDir: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
