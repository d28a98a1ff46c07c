package shmtest_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/shmtest"
	"golang.org/x/sys/unix"
)

// threadMnt is the inode of the calling thread's mount namespace.
func threadMnt(t testing.TB) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/mnt", &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// getwd is the calling thread's working directory, by getcwd (os.Getwd
// may answer from $PWD).
func getwd(t testing.TB) string {
	t.Helper()
	wd, err := unix.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

// uniqueShm is a path in the machine's /dev/shm no other test uses,
// removed when the test ends (by the test's goroutine: call it from a test
// that is not isolated).
func uniqueShm(t *testing.T, what string) string {
	t.Helper()
	path := fmt.Sprintf("/dev/shm/shmtest-%s-%d-%d", what, os.Getpid(), time.Now().UnixNano())
	t.Cleanup(func() { os.Remove(path) })
	return path
}

// outside runs fn on an ordinary goroutine, in the machine's namespaces
// (as another package's test would), and waits for it.
func outside(fn func()) {
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	<-done
}

// requirePrivateDevShm skips the test where Isolate could not mount a
// /dev/shm of its own.
func requirePrivateDevShm(t testing.TB, ns *shmtest.Namespace) {
	t.Helper()
	if !ns.PrivateDevShm() {
		t.Skipf("Isolate could not give the test a private /dev/shm here (its log says why)")
	}
}

// TestIsolateDevShmNotBlamed: while an isolated test runs, another
// package's test (an ordinary goroutine, in the machine's namespaces)
// makes a POSIX object in the machine's /dev/shm. The isolated test does
// not see it, and NoLeaks does not blame the test for it.
func TestIsolateDevShmNotBlamed(t *testing.T) {
	other := uniqueShm(t, "other-package")
	var made, seenInside error
	ft := fake(t, nil, func(ft *fakeTB) {
		requirePrivateDevShm(ft, shmtest.Isolate(ft))
		shmtest.NoLeaks(ft)
		outside(func() { made = os.WriteFile(other, []byte("not mine"), 0o600) })
		_, seenInside = os.Stat(other)
	})
	if ft.Skipped() {
		t.Skip(ft.output())
	}
	if made != nil {
		t.Fatalf("the other test's object: %v", made)
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("the other test's object is not in the machine's /dev/shm: %v", err)
	}
	if !errors.Is(seenInside, fs.ErrNotExist) {
		t.Errorf("the isolated test sees %s, made outside: stat %v, want ENOENT", other, seenInside)
	}
	mustPass(t, ft)
}

// TestIsolateDevShmPrivate: POSIX objects made in an isolated test, by the
// test's goroutine (shmmap.ShmOpen) and by a C child (glibc's shm_open and
// sem_open), are in a fresh /dev/shm of the test's own: NoLeaks names them,
// without the advice for a shared /dev/shm; the machine's /dev/shm does not
// have them; and the tmpfs holding them is unmounted once the test is over.
func TestIsolateDevShmPrivate(t *testing.T) {
	bin := shmtest.BuildC(t, "testdata/posix.c", "-pthread", "-lrt")
	var machine unix.Stat_t
	if err := unix.Stat("/dev/shm", &machine); err != nil {
		t.Skipf("no /dev/shm here: %v", err)
	}
	name := fmt.Sprintf("shmtest-private-%d-%d", os.Getpid(), time.Now().UnixNano())
	fromC, semC, fromGo := "/dev/shm/"+name, "/dev/shm/sem."+name, "/dev/shm/"+name+"-go"

	var (
		atStart, atEnd []string
		mount          string
		private        unix.Stat_t
		watch          = -1
		outsideErrs    []error
	)
	ft := newFake(t)
	offMainThread(func() {
		defer ft.runCleanups()
		requirePrivateDevShm(ft, shmtest.Isolate(ft))
		shmtest.NoLeaks(ft)
		atStart = listDir(ft, "/dev/shm")
		mount = devShmMount(ft)
		if err := unix.Stat("/dev/shm", &private); err != nil {
			ft.Fatalf("stat the private /dev/shm: %v", err)
		}

		f, err := shmmap.ShmOpen(name+"-go", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			ft.Fatalf("ShmOpen: %v", err)
		}
		if err := f.Truncate(8192); err != nil {
			ft.Errorf("truncate: %v", err)
		}
		f.Close()
		if res := shmtest.Run(ft, exec.Command(bin, name)); res.Status != 0 || res.Stdout != "made\n" {
			ft.Fatalf("the C program: %+v", res)
		}
		atEnd = listDir(ft, "/dev/shm")

		// Outside, none of them exists.
		outside(func() {
			for _, p := range []string{fromC, semC, fromGo} {
				_, err := os.Stat(p)
				outsideErrs = append(outsideErrs, err)
			}
		})

		// A watch on the private /dev/shm, to learn when it is unmounted.
		if watch, err = unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK); err != nil {
			ft.Fatalf("inotify_init1: %v", err)
		}
		if _, err := unix.InotifyAddWatch(watch, "/dev/shm", unix.IN_DELETE_SELF); err != nil {
			ft.Fatalf("inotify_add_watch: %v", err)
		}
	})
	if watch >= 0 {
		defer unix.Close(watch)
	}
	if ft.Skipped() {
		t.Skip(ft.output())
	}

	if len(atStart) != 0 {
		t.Errorf("the private /dev/shm is not empty at the start: %q", atStart)
	}
	if want := []string{"sem." + name, name, name + "-go"}; !slices.Equal(atEnd, want) {
		t.Errorf("the private /dev/shm holds %q, want %q", atEnd, want)
	}
	if !strings.Contains(mount, " - tmpfs shmtest ") {
		t.Errorf("/dev/shm in the test's mountinfo: %q, want the tmpfs Isolate mounts", mount)
	}
	if private.Dev == machine.Dev {
		t.Errorf("the test's /dev/shm is the machine's (device %d)", machine.Dev)
	}
	if private.Mode&unix.S_IFMT != unix.S_IFDIR || private.Mode&0o7777 != 0o1777 {
		t.Errorf("the private /dev/shm has mode %o, want a directory of mode 1777", private.Mode)
	}
	for i, err := range outsideErrs {
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the machine's /dev/shm, object %d: stat %v, want ENOENT", i, err)
		}
	}
	// NoLeaks read the private /dev/shm (the objects are nowhere else),
	// and does not suggest another test made them.
	mustFail(t, ft, "left 3 IPC objects behind",
		"POSIX shared memory object: "+fromC+", 4096 bytes, mode 0600",
		"POSIX shared memory object: "+fromGo+", 8192 bytes, mode 0600",
		"POSIX named semaphore: "+semC)
	if strings.Contains(ft.output(), "unique") {
		t.Errorf("NoLeaks blames the machine's /dev/shm in an isolated test:\n%s", ft.output())
	}

	// The test is over: its thread has ended, its child has exited, so the
	// mount namespace and its tmpfs go, objects and all.
	if watch >= 0 {
		if err := waitUnmount(watch, 10*time.Second); err != nil {
			t.Errorf("the private /dev/shm after the test: %v", err)
		}
	}
}

// TestIsolateDevShmJoin: goroutines started with ns.Go, a subtest after
// ns.Join, and DoUnprivileged from the test's goroutine all see the test's
// private /dev/shm, keep their working directory, and are in its mount
// namespace; an ordinary goroutine, and the subtest before Join, are not.
func TestIsolateDevShmJoin(t *testing.T) {
	shmtest.RequireRoot(t)
	ns := shmtest.Isolate(t)
	requirePrivateDevShm(t, ns)
	shmtest.NoLeaks(t)
	mnt, wd := threadMnt(t), getwd(t)
	const mine, nobodys = "/dev/shm/shmtest-join", "/dev/shm/shmtest-join-nobody"
	if err := os.WriteFile(mine, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(mine) })

	type view struct {
		mnt uint64
		wd  string
		err error // stat mine
	}
	look := func() view {
		v := view{}
		var st unix.Stat_t
		if v.err = unix.Stat("/proc/thread-self/ns/mnt", &st); v.err != nil {
			return v
		}
		v.mnt = st.Ino
		if v.wd, v.err = unix.Getwd(); v.err != nil {
			return v
		}
		_, v.err = os.Stat(mine)
		return v
	}
	inside := func(who string, v view) {
		t.Helper()
		if v.err != nil || v.mnt != mnt || v.wd != wd {
			t.Errorf("%s: stat %s: %v; in mnt:[%d], working directory %s; want the test's mnt:[%d] and %s",
				who, mine, v.err, v.mnt, v.wd, mnt, wd)
		}
	}

	var fromGo view
	<-ns.Go(t, func() { fromGo = look() })
	inside("ns.Go", fromGo)

	var plain view
	outside(func() { plain = look() })
	if plain.mnt == mnt || !errors.Is(plain.err, fs.ErrNotExist) {
		t.Errorf("an ordinary goroutine: in mnt:[%d] (the test's is %d), stat %s: %v, want ENOENT", plain.mnt, mnt, mine, plain.err)
	}

	t.Run("Join", func(t *testing.T) {
		if before := look(); before.err == nil || before.mnt == mnt {
			t.Errorf("the subtest sees the test's /dev/shm before Join: mnt:[%d], stat %v", before.mnt, before.err)
		}
		ns.Join(t)
		inside("after Join", look())
		if _, err := os.Stat("testdata/posix.c"); err != nil {
			t.Errorf("a relative path after Join: %v", err)
		}
	})

	var asNobody view
	var made error
	shmtest.DoUnprivileged(t, func() {
		asNobody = look()
		// /dev/shm is 1777: nobody may make files in it.
		made = os.WriteFile(nobodys, []byte("y"), 0o644)
	})
	t.Cleanup(func() { os.Remove(nobodys) })
	inside("DoUnprivileged", asNobody)
	if made != nil {
		t.Errorf("nobody making a file in the private /dev/shm: %v", made)
	} else if fi, err := os.Stat(nobodys); err != nil || fi.Sys().(*syscall.Stat_t).Uid != shmtest.Nobody {
		t.Errorf("the file nobody made, seen by the test: %v %v", fi, err)
	}
}

// TestIsolateDevShmShared: where the tmpfs cannot be mounted, Isolate
// still gives the test its IPC namespace, does not skip, leaves the thread
// in the machine's mount namespace and working directory, says why in the
// log, and PrivateDevShm reports false; NoLeaks then warns that another
// test may have made a /dev/shm entry, and ns.Go joins the IPC namespace
// only.
func TestIsolateDevShmShared(t *testing.T) {
	shmtest.RequireRoot(t)
	machineIPC, machineMnt, wd := threadNS(t), threadMnt(t), getwd(t)
	leaked := uniqueShm(t, "shared")
	restore := shmtest.FailDevShmMount(unix.EPERM)
	var (
		ns                        *shmtest.Namespace
		ipc, mnt, goIPC, goMnt    uint64
		wdAfter                   string
		seenOutside, seenInsideGo error
	)
	ft := fake(t, nil, func(ft *fakeTB) {
		ns = shmtest.Isolate(ft)
		ipc, mnt, wdAfter = threadNS(ft), threadMnt(ft), getwd(ft)
		shmtest.NoLeaks(ft)
		if err := os.WriteFile(leaked, nil, 0o600); err != nil {
			ft.Fatalf("%v", err)
		}
		<-ns.Go(ft, func() {
			goIPC, goMnt = threadNS(ft), threadMnt(ft)
			_, seenInsideGo = os.Stat(leaked)
		})
		outside(func() { _, seenOutside = os.Stat(leaked) })
	})
	restore()
	if ft.Skipped() || ns == nil {
		t.Fatalf("Isolate skipped or failed:\n%s", ft.output())
	}
	if ns.PrivateDevShm() {
		t.Errorf("PrivateDevShm is true though the mount failed")
	}
	if ipc == machineIPC || ipc != ns.Inode() || goIPC != ipc {
		t.Errorf("IPC namespaces: machine %d, test %d (Inode %d), ns.Go %d", machineIPC, ipc, ns.Inode(), goIPC)
	}
	if mnt != machineMnt || goMnt != machineMnt || wdAfter != wd {
		t.Errorf("after the failed mount the test is in mnt:[%d] (ns.Go mnt:[%d]) in %s; want the machine's mnt:[%d] and %s",
			mnt, goMnt, wdAfter, machineMnt, wd)
	}
	if seenOutside != nil || seenInsideGo != nil {
		t.Errorf("the test's object in the shared /dev/shm: outside %v, from ns.Go %v", seenOutside, seenInsideGo)
	}
	for _, want := range []string{"/dev/shm stays the machine's", "mount -t tmpfs", "operation not permitted"} {
		if !strings.Contains(ft.logged(), want) {
			t.Errorf("Isolate's log does not say %q:\n%s", want, ft.logged())
		}
	}
	mustFail(t, ft, "POSIX shared memory object: "+leaked, "names unique to the test")
}

// TestNoLeaksFurtherMountNamespace: an isolated test that enters a mount
// namespace of its own after NoLeaks (to mount a small tmpfs, say) still
// has its private /dev/shm, and NoLeaks still treats it as such; one that
// mounts another file system on /dev/shm is told the check cannot compare.
func TestNoLeaksFurtherMountNamespace(t *testing.T) {
	enter := func(ft *fakeTB) {
		if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
			ft.Fatalf("unshare(CLONE_NEWNS): %v", err)
		}
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			ft.Fatalf("mount(/, MS_REC|MS_PRIVATE): %v", err)
		}
	}
	ft := fake(t, nil, func(ft *fakeTB) {
		requirePrivateDevShm(ft, shmtest.Isolate(ft))
		shmtest.NoLeaks(ft)
		enter(ft)
		if err := os.WriteFile("/dev/shm/shmtest-nested", nil, 0o600); err != nil {
			ft.Fatalf("%v", err)
		}
	})
	if ft.Skipped() {
		t.Skip(ft.output())
	}
	mustFail(t, ft, "left 1 IPC object behind", "POSIX shared memory object: /dev/shm/shmtest-nested")
	if strings.Contains(ft.output(), "unique") || strings.Contains(ft.output(), "another /dev/shm") {
		t.Errorf("NoLeaks no longer treats /dev/shm as the test's own:\n%s", ft.output())
	}

	ft = fake(t, nil, func(ft *fakeTB) {
		requirePrivateDevShm(ft, shmtest.Isolate(ft))
		shmtest.NoLeaks(ft)
		enter(ft)
		if err := unix.Mount("other", "/dev/shm", "tmpfs", 0, "mode=1777"); err != nil {
			ft.Fatalf("mount tmpfs: %v", err)
		}
	})
	mustFail(t, ft, "the check sees another /dev/shm", "call NoLeaks from the test's goroutine, after Isolate")
}

// offMainThread runs fn on a goroutine that is not on the process's main
// thread, and waits for it. The runtime never ends the main thread, so
// namespaces that fn's thread enters would outlive fn there.
func offMainThread(fn func()) {
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread() // never unlocked: fn may change this thread
		if unix.Gettid() != unix.Getpid() {
			defer close(done)
			fn()
			return
		}
		// The main thread: it stays locked to this goroutine, so it can
		// run no other, while fn runs on another thread.
		inner := make(chan struct{})
		go func() { defer close(inner); fn() }()
		<-inner
		runtime.UnlockOSThread()
		close(done)
	}()
	<-done
}

// listDir lists a directory's names, sorted.
func listDir(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("%v", err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// devShmMount is the last line of the calling thread's mountinfo mounted
// on /dev/shm: the mount that path reaches.
func devShmMount(t testing.TB) string {
	t.Helper()
	data, err := os.ReadFile("/proc/thread-self/mountinfo")
	if err != nil {
		t.Fatalf("%v", err)
	}
	var last string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) > 4 && f[4] == "/dev/shm" {
			last = sc.Text()
		}
	}
	return last
}

// waitUnmount waits until the inotify instance fd reports that the file
// system it watches is unmounted (IN_UNMOUNT).
func waitUnmount(fd int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 4096)
	var seen []string
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("not unmounted after %v (inotify events: %q)", timeout, seen)
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, int(left/time.Millisecond)+1); err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("poll: %w", err)
		}
		n, err := unix.Read(fd, buf)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read inotify: %w", err)
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			mask := binary.NativeEndian.Uint32(buf[off+int(unsafe.Offsetof(unix.InotifyEvent{}.Mask)):])
			if mask&unix.IN_UNMOUNT != 0 {
				return nil
			}
			seen = append(seen, fmt.Sprintf("%#x", mask))
			off += unix.SizeofInotifyEvent + int(binary.NativeEndian.Uint32(buf[off+int(unsafe.Offsetof(unix.InotifyEvent{}.Len)):]))
		}
	}
}
