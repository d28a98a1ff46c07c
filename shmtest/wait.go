package shmtest

import (
	"fmt"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// pollInterval is how often WaitFor and WaitAttached check their
// condition. The kernel has no notification for a segment's attach count,
// so they poll it, inside a select with the deadline.
const pollInterval = time.Millisecond

// WaitFor waits until cond returns true, checking it every millisecond on
// the calling goroutine (so after Isolate, from the test's goroutine, cond
// works in the test's namespace). It fails the test at once, with the
// process's output, if one of the watched processes exits first, and after
// timeout (DefaultTimeout if zero or less). what names the condition in
// the failure message: "the writer's message in the segment".
func WaitFor(t testing.TB, what string, timeout time.Duration, cond func() bool, watch ...*Process) {
	t.Helper()
	waitFor(t, what, timeout, func() (bool, string) { return cond(), "" }, watch)
}

// WaitAttached waits until the System V shared memory segment at key has
// exactly n attachments (IPC_STAT's shm_nattch): the handshake for "the
// peer has attached" (n = 1, or more) and "everyone has detached" (n = 0)
// when the peer prints nothing. It looks the key up afresh at every check
// (every millisecond), so the segment may not exist yet when it starts. It
// fails the test at once if one of the watched processes exits first, and
// after timeout (DefaultTimeout if zero or less), saying what it last saw.
//
// The key is looked up in the calling thread's IPC namespace: after
// Isolate, call WaitAttached from the test's goroutine.
func WaitAttached(t testing.TB, key int, n int, timeout time.Duration, watch ...*Process) {
	t.Helper()
	if key == unix.IPC_PRIVATE {
		t.Fatalf("shmtest.WaitAttached: key 0 is IPC_PRIVATE, which names no segment: use the shmid")
	}
	if n < 0 {
		t.Fatalf("shmtest.WaitAttached: %d attachments", n)
	}
	what := fmt.Sprintf("the segment at key 0x%08x to have %d attachment%s", uint32(key), n, plural(n))
	waitFor(t, what, timeout, func() (bool, string) {
		id, err := unix.SysvShmGet(key, 0, 0)
		if err != nil {
			return false, fmt.Sprintf("shmget: %v", err)
		}
		var ds unix.SysvShmDesc
		if _, err := unix.SysvShmCtl(id, unix.IPC_STAT, &ds); err != nil {
			return false, fmt.Sprintf("IPC_STAT of shmid %d: %v", id, err)
		}
		return int(ds.Nattch) == n, fmt.Sprintf("shmid %d has %d attachment%s", id, ds.Nattch, plural(int(ds.Nattch)))
	}, watch)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func waitFor(t testing.TB, what string, timeout time.Duration, check func() (bool, string), watch []*Process) {
	t.Helper()
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		ok, state := check()
		if ok {
			return
		}
		if state != "" {
			state = " (last seen: " + state + ")"
		}
		for _, p := range watch {
			select {
			case <-p.exited:
				t.Fatalf("shmtest: %s %s before %s%s\n%s", p.name, p.exitDesc(), what, state, p.outputs())
			default:
			}
		}
		select {
		case <-deadline.C:
			msg := fmt.Sprintf("shmtest: timed out after %v waiting for %s%s", timeout, what, state)
			for _, p := range watch {
				msg += fmt.Sprintf("\n%s is still running\n%s", p.name, p.outputs())
			}
			t.Fatalf("%s", msg)
		case <-tick.C:
		}
	}
}
