package shmtest_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shmmap/shmmap/shmtest"
	"golang.org/x/sys/unix"
)

// ipcGet makes a System V object with semget or msgget (shmget is in
// x/sys/unix), IPC_CREAT|IPC_EXCL, mode 0600.
func ipcGet(t *testing.T, sysno uintptr, key, n int) int {
	t.Helper()
	flag := unix.IPC_CREAT | unix.IPC_EXCL | 0o600
	var r uintptr
	var e unix.Errno
	if sysno == unix.SYS_SEMGET {
		r, _, e = unix.Syscall(sysno, uintptr(key), uintptr(n), uintptr(flag))
	} else {
		r, _, e = unix.Syscall(sysno, uintptr(key), uintptr(flag), 0)
	}
	if e != 0 {
		t.Fatalf("making key %#x: %v", key, e)
	}
	return int(r)
}

// TestNoLeaksNamesEach: a segment, a semaphore set and a message queue made
// during the test and left behind each fail NoLeaks, named; objects that
// were there before are not blamed.
func TestNoLeaksNamesEach(t *testing.T) {
	shmtest.Isolate(t)
	// There before NoLeaks: not the test's doing.
	old, err := unix.SysvShmGet(0x4141, 64, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
	if err != nil {
		t.Fatal(err)
	}
	ft := newFake(t)
	shmtest.NoLeaks(ft)
	shm, err := unix.SysvShmGet(0x4242, 4096, unix.IPC_CREAT|unix.IPC_EXCL|0o640)
	if err != nil {
		t.Fatal(err)
	}
	sem := ipcGet(t, unix.SYS_SEMGET, 0x4343, 3)
	msg := ipcGet(t, unix.SYS_MSGGET, 0x4444, 0)
	ft.runCleanups() // on this goroutine, as the testing package would
	mustFail(t, ft,
		"left 3 IPC objects behind",
		fmt.Sprintf("System V shared memory segment: key 0x00004242, shmid %d, 4096 bytes, mode 0640, uid 0, nattch 0, created by pid %d", shm, os.Getpid()),
		fmt.Sprintf("System V semaphore set: key 0x00004343, semid %d, 3 semaphores, mode 0600", sem),
		fmt.Sprintf("System V message queue: key 0x00004444, msqid %d, 0 messages (0 bytes), mode 0600", msg),
	)
	if strings.Contains(ft.output(), "0x00004141") {
		t.Errorf("NoLeaks blamed a segment that was there before it:\n%s", ft.output())
	}
	if strings.Contains(ft.output(), "was not isolated") {
		t.Errorf("an isolated test is told it shares the machine's namespace:\n%s", ft.output())
	}

	// Removed, they are no longer leaks.
	ft = newFake(t)
	shmtest.NoLeaks(ft)
	ft.runCleanups()
	for _, rm := range []func() error{
		func() error { _, err := unix.SysvShmCtl(old, unix.IPC_RMID, nil); return err },
		func() error { _, err := unix.SysvShmCtl(shm, unix.IPC_RMID, nil); return err },
		func() error {
			_, _, e := unix.Syscall6(unix.SYS_SEMCTL, uintptr(sem), 0, unix.IPC_RMID, 0, 0, 0)
			return errnoErr(e)
		},
		func() error {
			_, _, e := unix.Syscall(unix.SYS_MSGCTL, uintptr(msg), unix.IPC_RMID, 0)
			return errnoErr(e)
		},
	} {
		if err := rm(); err != nil {
			t.Error(err)
		}
	}
	mustPass(t, ft)
}

func errnoErr(e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

// TestNoLeaksCleanupOrder: a removal the test registers after NoLeaks runs
// before the check, and a process Start killed in its cleanup has
// detached; what it did not remove is a leak.
func TestNoLeaksCleanupOrder(t *testing.T) {
	ns := shmtest.Isolate(t)
	bin := attachBin(t)
	ft := fake(t, ns, func(ft *fakeTB) {
		shmtest.NoLeaks(ft)
		p := shmtest.Start(ft, attachCmd(bin, "0x4545"))
		p.WaitLine(ft, "ready", 10*time.Second)
		ft.Cleanup(func() { removeKey(ft, 0x4545) })
	})
	mustPass(t, ft)

	ft = fake(t, ns, func(ft *fakeTB) {
		shmtest.NoLeaks(ft)
		p := shmtest.Start(ft, attachCmd(bin, "0x4646"))
		p.WaitLine(ft, "ready", 10*time.Second)
	})
	mustFail(t, ft, "key 0x00004646", "nattch 0")
}

// TestNoLeaksDevShm: a /dev/shm file made during the test and left is a
// leak; one that was there before is not.
func TestNoLeaksDevShm(t *testing.T) {
	name := func(what string) string {
		return filepath.Join("/dev/shm", fmt.Sprintf("shmtest-%s-%d-%d", what, os.Getpid(), time.Now().UnixNano()))
	}
	before, leaked := name("before"), name("leaked")
	for _, p := range []string{before, leaked} {
		t.Cleanup(func() { os.Remove(p) })
	}
	if err := os.WriteFile(before, []byte("x"), 0o600); err != nil {
		t.Skipf("no /dev/shm here: %v", err)
	}
	ft := newFake(t)
	shmtest.NoLeaks(ft)
	if err := os.WriteFile(leaked, make([]byte, 100), 0o640); err != nil {
		t.Fatal(err)
	}
	ft.runCleanups()
	mustFail(t, ft, "POSIX shared memory object: "+leaked+", 100 bytes, mode 0640")
	if strings.Contains(ft.output(), before) {
		t.Errorf("blamed for %s, which was there before:\n%s", before, ft.output())
	}
	if !strings.Contains(ft.output(), "names unique to the test") {
		t.Errorf("the message does not suggest unique names:\n%s", ft.output())
	}
}

// TestNoLeaksRealTest runs NoLeaks in real tests: the check, in a cleanup,
// reads the isolated namespace (or it would find the namespaces differ).
func TestNoLeaksRealTest(t *testing.T) {
	t.Run("isolated", func(t *testing.T) {
		shmtest.Isolate(t)
		shmtest.NoLeaks(t)
		id, err := unix.SysvShmGet(0x4747, 64, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.SysvShmCtl(id, unix.IPC_RMID, nil) })
	})
	// NoLeaks before Isolate: the check runs in another namespace than
	// the snapshot, and says so.
	ft := fake(t, nil, func(ft *fakeTB) {
		shmtest.NoLeaks(ft)
		shmtest.Isolate(ft)
	})
	mustFail(t, ft, "call NoLeaks from the test's goroutine, after Isolate")
}

func attachCmd(bin, key string) *exec.Cmd { return exec.Command(bin, key, "64") }

func removeKey(t testing.TB, key int) {
	id, err := unix.SysvShmGet(key, 0, 0)
	if err == nil {
		_, err = unix.SysvShmCtl(id, unix.IPC_RMID, nil)
	}
	if err != nil {
		t.Errorf("removing %#x: %v", key, err)
	}
}

// TestNoLeaksNotIsolated: in the machine's namespace the message warns
// that another test may have made the object.
func TestNoLeaksNotIsolated(t *testing.T) {
	ft := newFake(t)
	shmtest.NoLeaks(ft)
	id, err := unix.SysvShmGet(unix.IPC_PRIVATE, 64, unix.IPC_CREAT|0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.SysvShmCtl(id, unix.IPC_RMID, nil) })
	ft.runCleanups()
	mustFail(t, ft, fmt.Sprintf("key 0x00000000, shmid %d, 64 bytes", id), "was not isolated", "shmtest.Isolate")
}
