package shmtest

import (
	"errors"
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
// timeout (DefaultTimeout if zero or less; it ends a second before the test
// binary's -timeout deadline in any case). what names the condition in the
// failure message: "the writer's message in the segment".
func WaitFor(t testing.TB, what string, timeout time.Duration, cond func() bool, watch ...*Process) {
	t.Helper()
	waitFor(t, what, timeout, func() (bool, string, error) { return cond(), "", nil }, watch)
}

// WaitAttached waits until the System V shared memory segment at key has
// exactly n attachments (IPC_STAT's shm_nattch): the handshake for "the
// peer has attached" (n = 1, or more) and "everyone has detached" (n = 0)
// when the peer prints nothing. It looks the key up afresh at every check
// (every millisecond), so the segment may not exist yet when it starts. It
// fails the test at once if one of the watched processes exits first, and
// after timeout (DefaultTimeout if zero or less), saying what it last saw.
// For a segment without a key (IPC_PRIVATE, or removed: its key is then
// 0), use WaitAttachedID.
//
// The key is looked up in the calling thread's IPC namespace: after
// Isolate, call WaitAttached from the test's goroutine.
func WaitAttached(t testing.TB, key int, n int, timeout time.Duration, watch ...*Process) {
	t.Helper()
	if key == unix.IPC_PRIVATE {
		t.Fatalf("shmtest.WaitAttached: key 0 is IPC_PRIVATE, which names no segment: use WaitAttachedID with the shmid")
	}
	if n < 0 {
		t.Fatalf("shmtest.WaitAttached: %d attachments", n)
	}
	what := fmt.Sprintf("the segment at key 0x%08x to have %s", uint32(key), attachments(n))
	waitFor(t, what, timeout, func() (bool, string, error) {
		id, err := unix.SysvShmGet(key, 0, 0)
		if err != nil {
			return false, fmt.Sprintf("shmget: %v", err), nil
		}
		nattch, err := nattch(id)
		if err != nil {
			return false, err.Error(), nil
		}
		return nattch == n, fmt.Sprintf("shmid %d has %s", id, attachments(nattch)), nil
	}, watch)
}

// WaitAttachedID is WaitAttached for the segment with identifier shmid
// (what shmget returned), which needs no key: a segment made with
// IPC_PRIVATE, or one already marked for removal. A segment marked for
// removal (IPC_RMID) disappears at its last detach, so when there is no
// segment shmid (IPC_STAT fails with EINVAL or EIDRM), that counts as 0
// attachments, and fails the test at once for any other n.
func WaitAttachedID(t testing.TB, shmid int, n int, timeout time.Duration, watch ...*Process) {
	t.Helper()
	if n < 0 {
		t.Fatalf("shmtest.WaitAttachedID: %d attachments", n)
	}
	what := fmt.Sprintf("the segment with shmid %d to have %s", shmid, attachments(n))
	waitFor(t, what, timeout, func() (bool, string, error) {
		nattch, err := nattch(shmid)
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EIDRM) {
			if n == 0 {
				return true, "", nil // removed at its last detach, or never there
			}
			return false, "", fmt.Errorf("there is no segment with shmid %d in this IPC namespace (removed, if it was there): %w", shmid, err)
		}
		if err != nil {
			return false, err.Error(), nil
		}
		return nattch == n, fmt.Sprintf("it has %s", attachments(nattch)), nil
	}, watch)
}

// nattch returns the number of attachments of segment id.
func nattch(id int) (int, error) {
	var ds unix.SysvShmDesc
	if _, err := unix.SysvShmCtl(id, unix.IPC_STAT, &ds); err != nil {
		return 0, fmt.Errorf("IPC_STAT of shmid %d: %w", id, err)
	}
	return int(ds.Nattch), nil
}

func attachments(n int) string {
	if n == 1 {
		return "1 attachment"
	}
	return fmt.Sprintf("%d attachments", n)
}

// waitFor checks until check reports done, a watched process exits, check
// returns an error (both fail the test at once) or the time is up.
func waitFor(t testing.TB, what string, timeout time.Duration, check func() (done bool, state string, err error), watch []*Process) {
	t.Helper()
	lim := waitLimit(t, timeout)
	deadline := lim.timer()
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		ok, state, err := check()
		if ok {
			return
		}
		if err != nil {
			msg := fmt.Sprintf("shmtest: waiting for %s: %v", what, err)
			for _, p := range watch {
				msg += fmt.Sprintf("\n%s:\n%s", p.name, p.outputs())
			}
			t.Fatalf("%s", msg)
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
			msg := fmt.Sprintf("shmtest: timed out after %v waiting for %s%s", lim, what, state)
			for _, p := range watch {
				msg += fmt.Sprintf("\n%s is still running\n%s", p.name, p.outputs())
			}
			t.Fatalf("%s", msg)
		case <-tick.C:
		}
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
