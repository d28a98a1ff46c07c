package shmtest_test

import (
	"errors"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/shmmap/shmmap/shmtest"
	"golang.org/x/sys/unix"
)

// TestWaitAttached sees the C peer attach, then detach, without reading
// its output.
func TestWaitAttached(t *testing.T) {
	shmtest.Isolate(t)
	shmtest.NoLeaks(t)
	const key = 0x5151
	t.Cleanup(func() { removeShm(t, key) })
	p := shmtest.Start(t, exec.Command(attachBin(t), "0x5151", "4096"))
	shmtest.WaitAttached(t, key, 1, 10*time.Second, p)
	// Seen independently of WaitAttached: the segment is there, attached
	// once, and was made by the peer.
	ds := statShm(t, key)
	if ds.Nattch != 1 || int(ds.Cpid) != p.Pid() || ds.Segsz != 4096 {
		t.Errorf("IPC_STAT: nattch %d, cpid %d, size %d; want 1, %d, 4096", ds.Nattch, ds.Cpid, ds.Segsz, p.Pid())
	}
	p.Send(t, "detach")
	shmtest.WaitAttached(t, key, 0, 10*time.Second, p)
	p.WaitLine(t, "ready", 10*time.Second) // printed after the attach
	if got := p.WaitLine(t, "", 10*time.Second); got != "detached" {
		t.Errorf("the peer answered %q", got)
	}
}

// TestWaitAttachedExited: the watched process exits before attaching;
// WaitAttached fails at once, with its stderr.
func TestWaitAttachedExited(t *testing.T) {
	ns := shmtest.Isolate(t)
	bin := attachBin(t)
	const timeout = 20 * time.Second
	start := time.Now()
	ft := fake(t, ns, func(ft *fakeTB) {
		// Size 0 with IPC_CREAT: shmget fails with EINVAL, the peer exits 1.
		p := shmtest.Start(ft, exec.Command(bin, "0x5252", "0"))
		shmtest.WaitAttached(ft, 0x5252, 1, timeout, p)
		ft.Errorf("WaitAttached returned")
	})
	quick(t, time.Since(start), timeout)
	mustFail(t, ft, "exited with status 1 before the segment at key 0x00005252 to have 1 attachment", "shmget: Invalid argument")
}

// TestWaitAttachedTimeout says what it saw last: no segment, or the wrong
// count.
func TestWaitAttachedTimeout(t *testing.T) {
	ns := shmtest.Isolate(t)
	ft := fake(t, ns, func(ft *fakeTB) { shmtest.WaitAttached(ft, 0x5353, 1, 50*time.Millisecond) })
	mustFail(t, ft, "timed out after 50ms", "key 0x00005353", "shmget: no such file or directory")

	id, err := unix.SysvShmGet(0x5353, 4096, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.SysvShmCtl(id, unix.IPC_RMID, nil) })
	ft = fake(t, ns, func(ft *fakeTB) { shmtest.WaitAttached(ft, 0x5353, 1, 50*time.Millisecond) })
	mustFail(t, ft, "timed out", "has 0 attachments")

	// The same segment, in the machine's namespace (a fake outside ns):
	// not there.
	ft = fake(t, nil, func(ft *fakeTB) { shmtest.WaitAttached(ft, 0x5353, 0, 50*time.Millisecond) })
	mustFail(t, ft, "no such file or directory")
	// And in ns it has 0 attachments at once.
	shmtest.WaitAttached(t, 0x5353, 0, 10*time.Second)

	ft = fake(t, ns, func(ft *fakeTB) { shmtest.WaitAttached(ft, 0, 1, time.Second) })
	mustFail(t, ft, "IPC_PRIVATE")
	ft = fake(t, ns, func(ft *fakeTB) { shmtest.WaitAttached(ft, 0x5353, -1, time.Second) })
	mustFail(t, ft, "-1 attachments")
}

func TestWaitFor(t *testing.T) {
	n := 0
	shmtest.WaitFor(t, "three checks", 10*time.Second, func() bool { n++; return n == 3 })
	if n != 3 {
		t.Errorf("cond called %d times", n)
	}

	emit := emitBin(t)
	start := time.Now()
	ft := fake(t, nil, func(ft *fakeTB) {
		p := shmtest.Start(ft, exec.Command(emit, "partial output\n", "", "-", "", "4"))
		shmtest.WaitFor(ft, "godot", 20*time.Second, func() bool { return false }, p)
	})
	quick(t, time.Since(start), 20*time.Second)
	mustFail(t, ft, "exited with status 4 before godot", "partial output")

	ft = fake(t, nil, func(ft *fakeTB) {
		shmtest.WaitFor(ft, "godot", 20*time.Millisecond, func() bool { return false })
	})
	mustFail(t, ft, "timed out after 20ms waiting for godot")
}

// statShm is IPC_STAT of the segment at key.
func statShm(t *testing.T, key int) unix.SysvShmDesc {
	t.Helper()
	id, err := unix.SysvShmGet(key, 0, 0)
	if err != nil {
		t.Fatalf("shmget %#x: %v", key, err)
	}
	var ds unix.SysvShmDesc
	if _, err := unix.SysvShmCtl(id, unix.IPC_STAT, &ds); err != nil {
		t.Fatal(err)
	}
	return ds
}

// removeShm removes the segment at key if there is one.
func removeShm(t *testing.T, key int) {
	t.Helper()
	id, err := unix.SysvShmGet(key, 0, 0)
	if errors.Is(err, unix.ENOENT) {
		return
	}
	if err == nil {
		_, err = unix.SysvShmCtl(id, unix.IPC_RMID, nil)
	}
	if err != nil {
		t.Errorf("removing segment %#x: %v", key, err)
	}
}

// TestWaitAttachedID waits on a segment without a key, by its shmid.
func TestWaitAttachedID(t *testing.T) {
	ns := shmtest.Isolate(t)
	shmtest.NoLeaks(t)
	id, err := unix.SysvShmGet(unix.IPC_PRIVATE, 4096, unix.IPC_CREAT|0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.SysvShmCtl(id, unix.IPC_RMID, nil) })
	shmtest.WaitAttachedID(t, id, 0, 10*time.Second)

	// A C peer's attachment, seen by its shmid: attach attaches key
	// 0x5454; the Go side makes it private by removing it first.
	peer := shmtest.Start(t, exec.Command(attachBin(t), "0x5454", "64"))
	peer.WaitLine(t, "ready", 10*time.Second)
	pid, err := unix.SysvShmGet(0x5454, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unix.SysvShmCtl(pid, unix.IPC_RMID, nil); err != nil {
		t.Fatal(err)
	}
	shmtest.WaitAttachedID(t, pid, 1, 10*time.Second, peer)
	ft := fake(t, ns, func(ft *fakeTB) { shmtest.WaitAttachedID(ft, pid, 2, 50*time.Millisecond, peer) })
	mustFail(t, ft, "timed out after 50ms", fmt.Sprintf("shmid %d to have 2 attachments", pid), "it has 1 attachment)")
	// Marked for removal, it vanishes at the peer's detach: that is 0.
	peer.Send(t, "detach")
	shmtest.WaitAttachedID(t, pid, 0, 10*time.Second, peer)
	peer.Wait(t, 10*time.Second)

	// Attached from Go, removed, detached: waiting for 1 fails at once.
	addr, err := unix.SysvShmAttach(id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	shmtest.WaitAttachedID(t, id, 1, 10*time.Second)
	unix.SysvShmCtl(id, unix.IPC_RMID, nil)
	unix.SysvShmDetach(addr)
	start := time.Now()
	ft = fake(t, ns, func(ft *fakeTB) { shmtest.WaitAttachedID(ft, id, 1, 20*time.Second) })
	quick(t, time.Since(start), 20*time.Second)
	mustFail(t, ft, fmt.Sprintf("no segment with shmid %d", id), "invalid argument")

	ft = fake(t, ns, func(ft *fakeTB) { shmtest.WaitAttachedID(ft, id, -1, time.Second) })
	mustFail(t, ft, "-1 attachments")
	ft = fake(t, ns, func(ft *fakeTB) { shmtest.WaitAttached(ft, 0, 1, time.Second) })
	mustFail(t, ft, "IPC_PRIVATE", "WaitAttachedID")
}
