package shmtest_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/shmmap/shmmap/shmtest"
	"golang.org/x/sys/unix"
)

// TestUnprivileged: the process's ids, as id(1) reports them, are nobody's,
// with no supplementary groups.
func TestUnprivileged(t *testing.T) {
	shmtest.RequireRoot(t)
	nobody := strconv.Itoa(shmtest.Nobody)
	for _, args := range [][]string{{"-u"}, {"-g"}, {"-G"}} {
		res := shmtest.Run(t, shmtest.Unprivileged(exec.Command("id", args...)))
		if got := strings.TrimSpace(res.Stdout); got != nobody || res.Status != 0 {
			t.Errorf("id %s as nobody: %q (status %d, %q), want %s", args[0], got, res.Status, res.Stderr, nobody)
		}
	}
	res := shmtest.Run(t, shmtest.AsUser(exec.Command("id", "-u"), 1234, 1234))
	if got := strings.TrimSpace(res.Stdout); got != "1234" {
		t.Errorf("id -u as 1234: %q", got)
	}
}

// TestUnprivilegedPermission: a C peer run as nobody is refused root's 0600
// segment; run as root it attaches.
func TestUnprivilegedPermission(t *testing.T) {
	shmtest.RequireRoot(t)
	shmtest.Isolate(t)
	shmtest.NoLeaks(t)
	id, err := unix.SysvShmGet(0x5454, 4096, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.SysvShmCtl(id, unix.IPC_RMID, nil) })
	bin := attachBin(t)
	res := shmtest.Run(t, shmtest.Unprivileged(exec.Command(bin, "0x5454", "4096")))
	if res.Status != 1 || !strings.Contains(res.Stderr, "Permission denied") {
		t.Errorf("the peer as nobody: %+v, want shmget's EACCES", res)
	}
	res = shmtest.Run(t, exec.Command(bin, "0x5454", "4096"))
	if res.Status != 0 || res.Stdout != "ready "+strconv.Itoa(id)+"\n" {
		t.Errorf("the peer as root: %+v", res)
	}
}

// TestDoUnprivileged: Go code runs as nobody on one thread, in the test's
// namespace; the test itself stays root.
func TestDoUnprivileged(t *testing.T) {
	shmtest.RequireRoot(t)
	shmtest.Isolate(t)
	id, err := unix.SysvShmGet(0x5555, 4096, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.SysvShmCtl(id, unix.IPC_RMID, nil)

	var uid, gid int
	var groups []int
	var shmErr error
	shmtest.DoUnprivileged(t, func() {
		uid, gid = unix.Getuid(), unix.Getgid()
		groups, _ = unix.Getgroups()
		// Asking for read-write access. EACCES, not ENOENT: the segment
		// is seen, in the same namespace, and refused.
		_, shmErr = unix.SysvShmGet(0x5555, 0, 0o600)
	})
	if uid != shmtest.Nobody || gid != shmtest.Nobody || len(groups) != 0 {
		t.Errorf("in DoUnprivileged: uid %d gid %d groups %v", uid, gid, groups)
	}
	if !errors.Is(shmErr, unix.EACCES) {
		t.Errorf("shmget of root's 0600 segment as nobody: %v, want EACCES", shmErr)
	}
	if unix.Getuid() != 0 {
		t.Errorf("the test's own thread became uid %d", unix.Getuid())
	}
	if _, err := unix.SysvShmGet(0x5555, 0, 0o600); err != nil {
		t.Errorf("as root afterwards: %v", err)
	}

	// A process started from fn runs as nobody too.
	var out []byte
	shmtest.DoUnprivileged(t, func() { out, _ = exec.Command("id", "-u").Output() })
	if got := strings.TrimSpace(string(out)); got != strconv.Itoa(shmtest.Nobody) {
		t.Errorf("a process started by fn: uid %q", got)
	}
}

func TestDoAsFailures(t *testing.T) {
	shmtest.RequireRoot(t)
	ft := fake(t, nil, func(ft *fakeTB) { shmtest.DoUnprivileged(ft, func() { panic("boom") }) })
	mustFail(t, ft, "fn panicked: boom", "user_test.go")
}

// TestSharedDir: nobody can enter and list it; it is gone after the test.
func TestSharedDir(t *testing.T) {
	shmtest.RequireRoot(t)
	var dir string
	ft := fake(t, nil, func(ft *fakeTB) {
		dir = shmtest.SharedDir(ft)
		if err := os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644); err != nil {
			ft.Errorf("%v", err)
		}
		cmd := shmtest.Unprivileged(exec.Command("cat", "f"))
		cmd.Dir = dir
		if res := shmtest.Run(ft, cmd); res.Stdout != "x" || res.Status != 0 {
			ft.Errorf("cat as nobody in the shared dir: %+v", res)
		}
		// The control: nobody cannot enter t.TempDir.
		cmd = shmtest.Unprivileged(exec.Command("true"))
		cmd.Dir = t.TempDir()
		if res := shmtest.Run(ft, cmd); res.Status == 0 {
			ft.Errorf("nobody entered t.TempDir(): the check above proves nothing")
		}
	})
	// The last Run fails to start: expected.
	if !strings.Contains(ft.output(), "permission denied") || strings.Contains(ft.output(), "cat as nobody") {
		t.Errorf("%s", ft.output())
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the shared dir after the test: %v", err)
	}
}
