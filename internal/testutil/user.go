package testutil

import (
	"os"
	"runtime"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// Nobody is the unprivileged user the permission tests run as.
const (
	NobodyUID = 65534
	NobodyGID = 65534
)

// NobodyCred returns SysProcAttr credentials for a child process that runs
// as the unprivileged user.
func NobodyCred() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: NobodyUID, Gid: NobodyGID, Groups: []uint32{}}}
}

// RequireRoot skips the test unless it runs as root, which the
// unprivileged-user cases need in order to drop to another uid.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to run code as an unprivileged uid")
	}
}

// AsNobody runs fn on a fresh OS thread whose credentials are those of the
// unprivileged user (uid and gid 65534, no capabilities), so IPC permission
// checks apply to every call fn makes, through cshim or purego. Linux keeps
// credentials per thread; the thread is discarded afterwards and the rest of
// the process keeps its own. A thread created by EnterIPCNamespace's caller
// keeps its namespace: fn runs in the caller's IPC namespace only if the
// caller passes through a thread in it, so AsNobody joins the caller
// thread's namespace first.
func AsNobody(t testing.TB, fn func()) {
	t.Helper()
	RequireRoot(t)
	ns, err := os.Open("/proc/thread-self/ns/ipc")
	if err != nil {
		t.Fatalf("open own IPC namespace: %v", err)
	}
	defer ns.Close()
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with this goroutine
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWIPC); err != nil {
			done <- err
			return
		}
		if err := setThreadCreds(NobodyUID, NobodyGID); err != nil {
			done <- err
			return
		}
		fn()
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatalf("becoming uid %d on one thread: %v", NobodyUID, err)
	}
}

// setThreadCreds changes the credentials of the calling thread only. The
// libc and x/sys wrappers change every thread of the process, so this makes
// the raw system calls.
func setThreadCreds(uid, gid int) error {
	if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, 0, 0, 0); e != 0 {
		return e
	}
	if _, _, e := unix.RawSyscall(sysSetresgid, uintptr(gid), uintptr(gid), uintptr(gid)); e != 0 {
		return e
	}
	if _, _, e := unix.RawSyscall(sysSetresuid, uintptr(uid), uintptr(uid), uintptr(uid)); e != 0 {
		return e
	}
	return nil
}
