package shmtest_test

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shmmap/shmmap/shmtest"
	"golang.org/x/sys/unix"
)

// threadNS is the inode of the calling thread's IPC namespace.
func threadNS(t testing.TB) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/ipc", &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// TestIsolateNewNamespace: the test's thread is in a new namespace, and so
// are the processes it starts and its cleanups; other goroutines are not.
func TestIsolateNewNamespace(t *testing.T) {
	before := threadNS(t) // an unlocked goroutine: the machine's namespace
	ns := shmtest.Isolate(t)
	after := threadNS(t)
	if after == before {
		t.Fatalf("still in ipc:[%d] after Isolate", before)
	}
	if after != ns.Inode() || ns.String() != "ipc:["+strconv.FormatUint(after, 10)+"]" {
		t.Errorf("the thread is in ipc:[%d], Isolate returned %v (inode %d)", after, ns, ns.Inode())
	}
	t.Cleanup(func() {
		if got := threadNS(t); got != after {
			t.Errorf("a cleanup runs in ipc:[%d], the test in ipc:[%d]", got, after)
		}
	})

	// A process started from the test's goroutine is inside.
	p := shmtest.Start(t, exec.Command(attachBin(t), "0x7171", "64"))
	p.WaitLine(t, "ready", 10*time.Second)
	link, err := os.Readlink("/proc/" + strconv.Itoa(p.Pid()) + "/ns/ipc")
	if err != nil {
		t.Fatal(err)
	}
	if link != ns.String() {
		t.Errorf("the process is in %s, the test in %v", link, ns)
	}
	// Its segment is visible here, and from a goroutine joined with Go...
	if _, err := unix.SysvShmGet(0x7171, 0, 0); err != nil {
		t.Errorf("the process's segment, seen by the test: %v", err)
	}
	var inGo error
	var goNS uint64
	<-ns.Go(t, func() {
		_, inGo = unix.SysvShmGet(0x7171, 0, 0)
		goNS = threadNS(t)
	})
	if inGo != nil || goNS != ns.Inode() {
		t.Errorf("from ns.Go: shmget %v, namespace ipc:[%d]", inGo, goNS)
	}
	// ...but not from an ordinary goroutine.
	done := make(chan error)
	go func() {
		_, err := unix.SysvShmGet(0x7171, 0, 0)
		done <- err
	}()
	if err := <-done; !errors.Is(err, unix.ENOENT) {
		t.Errorf("an ordinary goroutine's shmget: %v, want ENOENT (it is outside)", err)
	}

	// A subtest is outside until it joins.
	t.Run("subtest", func(t *testing.T) {
		if got := threadNS(t); got == ns.Inode() {
			t.Errorf("the subtest is in the parent's namespace before Join")
		}
		ns.Join(t)
		if got := threadNS(t); got != ns.Inode() {
			t.Errorf("after Join the subtest is in ipc:[%d], want %v", got, ns)
		}
		if _, err := unix.SysvShmGet(0x7171, 0, 0); err != nil {
			t.Errorf("the joined subtest's shmget: %v", err)
		}
	})

	// Killed, the process leaves its segment, which the namespace removes
	// when the test ends.
	p.Kill()
}

// TestIsolateNoCollision: two isolated tests running at the same time
// both create key 0x1234 with IPC_EXCL, which in one namespace collides.
func TestIsolateNoCollision(t *testing.T) {
	t.Run("control: one namespace", func(t *testing.T) {
		shmtest.Isolate(t)
		id, err := unix.SysvShmGet(0x1234, 64, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.SysvShmCtl(id, unix.IPC_RMID, nil)
		if _, err := unix.SysvShmGet(0x1234, 64, unix.IPC_CREAT|unix.IPC_EXCL|0o600); !errors.Is(err, unix.EEXIST) {
			t.Fatalf("a second IPC_EXCL create: %v, want EEXIST", err)
		}
	})

	// Two isolated "tests" on goroutines of their own (fakes, so that
	// they surely run at the same time whatever -parallel says).
	type side struct {
		once    sync.Once
		ready   chan struct{} // closed once created (or given up)
		created bool
	}
	sides := [2]*side{{ready: make(chan struct{})}, {ready: make(chan struct{})}}
	var fakes [2]*fakeTB
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			fakes[i] = fake(t, nil, func(ft *fakeTB) {
				me, other := sides[i], sides[1-i]
				defer me.once.Do(func() { close(me.ready) })
				shmtest.Isolate(ft)
				id, err := unix.SysvShmGet(0x1234, 64, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
				if err != nil {
					ft.Fatalf("create 0x1234: %v", err)
				}
				defer unix.SysvShmCtl(id, unix.IPC_RMID, nil)
				me.created = true
				me.once.Do(func() { close(me.ready) })
				// Neither removes its segment before both have made
				// theirs: they existed at the same time.
				<-other.ready
				if !other.created {
					ft.Errorf("the other test did not create its segment")
				}
			})
		})
	}
	wg.Wait()
	for i, ft := range fakes {
		if ft.Failed() || ft.Skipped() {
			t.Errorf("isolated test %d: %s", i, ft.output())
		}
	}
}

// TestIsolateSkips: where unshare is refused, Isolate skips and says what
// to do. An unprivileged thread is refused. (This also shows that DoAs
// fails the test when its fn ends with runtime.Goexit.)
func TestIsolateSkips(t *testing.T) {
	shmtest.RequireRoot(t)
	inner := newFake(t)
	outer := fake(t, nil, func(outer *fakeTB) {
		shmtest.DoUnprivileged(outer, func() {
			shmtest.Isolate(inner)
			inner.Errorf("Isolate returned")
		})
	})
	if !inner.Skipped() || inner.Failed() {
		t.Fatalf("Isolate as nobody: skipped=%v failed=%v: %s", inner.Skipped(), inner.Failed(), inner.output())
	}
	for _, want := range []string{"unshare(CLONE_NEWIPC)", "operation not permitted", "root", "CAP_SYS_ADMIN"} {
		if !strings.Contains(inner.output(), want) {
			t.Errorf("the skip message does not say %q: %s", want, inner.output())
		}
	}
	mustFail(t, outer, "runtime.Goexit")
}
