// Package testutil holds the machinery the cross-process tests share:
// private IPC namespaces, running code as an unprivileged user, building the
// C reference and the Go ports, and capturing a process's observable
// behaviour.
package testutil

import (
	"errors"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// EnterIPCNamespace moves the calling test goroutine into a fresh System V
// IPC namespace: it locks the goroutine to its OS thread and unshares
// CLONE_NEWIPC on that thread only. From then on every IPC call the test
// makes — through purego or cshim — and every process it starts (forked from
// this thread) sees only the namespace's segments, so fixed keys such as
// 0x1234 cannot collide with other tests or with anything else on the
// machine.
//
// The thread is never unlocked: when the test goroutine ends, the runtime
// terminates the thread, and once the last process in the namespace has
// exited the kernel destroys the namespace with every segment in it, even
// after a crash. Subtests run on their own goroutines and must call
// EnterIPCNamespace themselves.
//
// Where namespaces are not permitted (no CAP_SYS_ADMIN) the test is skipped
// with a message saying so.
func EnterIPCNamespace(t testing.TB) {
	t.Helper()
	runtime.LockOSThread()
	if err := unix.Unshare(unix.CLONE_NEWIPC); err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
			t.Skipf("cannot create a private IPC namespace (unshare CLONE_NEWIPC: %v); run as root or with CAP_SYS_ADMIN", err)
		}
		t.Fatalf("unshare(CLONE_NEWIPC): %v", err)
	}
}
