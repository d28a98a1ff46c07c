package conformance

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap/shmtest"
	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// uniqueName returns a /dev/shm name no other test or process uses, and
// removes the object when the test ends.
func uniqueName(t *testing.T, tag string) string {
	name := fmt.Sprintf("shmmap-test-%d-%s-%s", os.Getpid(), strings.ReplaceAll(t.Name(), "/", "_"), tag)
	t.Cleanup(func() { os.Remove("/dev/shm/" + name) })
	return name
}

// TestShmOpenNames: name validation and errno match glibc's shm_open and
// shm_unlink for every kind of name.
func TestShmOpenNames(t *testing.T) {
	got := each(t, func(t *testing.T, sys sysapi.Impl) map[string]string {
		base := uniqueName(t, "n")
		names := map[string]string{
			"plain": base, "one slash": "/" + base, "many slashes": "///" + base,
			"empty": "", "only a slash": "/", "slash inside": base + "/x",
			"dot": ".", "dot dot": "..", "NAME_MAX": strings.Repeat("n", 255),
			"NAME_MAX+1": strings.Repeat("n", 256), "259 bytes": strings.Repeat("n", 259),
			"260 bytes (past glibc's buffer)": strings.Repeat("n", 260),
		}
		o := map[string]string{}
		for what, name := range names {
			fd, err := sys.ShmOpen(name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, 0o600)
			o["create "+what] = errString(err)
			if err == nil {
				fl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
				if fl&unix.FD_CLOEXEC == 0 {
					t.Errorf("shm_open(%q) left the descriptor without FD_CLOEXEC", name)
				}
				sys.Close(fd)
				o["unlink "+what] = errString(sys.ShmUnlink(name))
			}
			o["unlink missing "+what] = errString(sys.ShmUnlink(name))
		}
		return o
	})
	for name, o := range got {
		for _, what := range []string{"plain", "one slash", "many slashes"} {
			if o["create "+what] != "" || o["unlink "+what] != "" || o["unlink missing "+what] != errString(unix.ENOENT) {
				t.Errorf("%s: %s name: create %q, unlink %q, unlink again %q", name, what, o["create "+what], o["unlink "+what], o["unlink missing "+what])
			}
		}
		for _, what := range []string{"empty", "only a slash", "slash inside", "260 bytes (past glibc's buffer)"} {
			if o["create "+what] != errString(unix.EINVAL) {
				t.Errorf("%s: create %s name = %q, want EINVAL", name, what, o["create "+what])
			}
		}
	}
}

// TestShmOpenSemantics: create-exclusive, O_NOFOLLOW, sizes through
// ftruncate, sharing through two descriptors, and the unlink permission
// rule of /dev/shm's sticky bit.
func TestShmOpenSemantics(t *testing.T) {
	each(t, func(t *testing.T, sys sysapi.Impl) map[string]string {
		o := map[string]string{}
		name := uniqueName(t, "obj")
		fd, err := sys.ShmOpen(name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer sys.Close(fd)
		_, err = sys.ShmOpen(name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, 0o600)
		o["create existing exclusively"] = errString(err)
		o["ftruncate"] = errString(sys.Ftruncate(fd, 8192))
		size, err := sys.Fstat(fd)
		o["size"] = fmt.Sprint(size, errString(err))
		fd2, err := sys.ShmOpen("/"+name, unix.O_RDONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer sys.Close(fd2)
		w, err := sys.Mmap(fd, 0, 8192, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			t.Fatal(err)
		}
		r, err := sys.Mmap(fd2, 0, 8192, unix.PROT_READ, unix.MAP_SHARED)
		if err != nil {
			t.Fatal(err)
		}
		copy(w[8000:], "seen through another descriptor")
		o["shared"] = string(r[8000:8031])
		sys.Munmap(w)
		sys.Munmap(r)

		link := uniqueName(t, "link")
		if err := os.Symlink("/dev/shm/"+name, "/dev/shm/"+link); err != nil {
			t.Fatal(err)
		}
		_, err = sys.ShmOpen(link, unix.O_RDWR, 0)
		o["open symlink"] = errString(err)

		if os.Geteuid() == 0 {
			shmtest.DoUnprivileged(t, func() {
				o["nobody unlink root's object"] = errString(sys.ShmUnlink(name))
				_, err := sys.ShmOpen(name, unix.O_RDWR, 0)
				o["nobody open root's 0600 object"] = errString(err)
			})
		}
		want := map[string]string{
			"create existing exclusively":    errString(unix.EEXIST),
			"ftruncate":                      "",
			"size":                           "8192",
			"shared":                         "seen through another descriptor",
			"open symlink":                   errString(unix.ELOOP),
			"nobody unlink root's object":    errString(unix.EACCES),
			"nobody open root's 0600 object": errString(unix.EACCES),
		}
		if os.Geteuid() != 0 {
			delete(want, "nobody unlink root's object")
			delete(want, "nobody open root's 0600 object")
		}
		if d := cmp.Diff(want, o); d != "" {
			t.Errorf("%s (-want +got):\n%s", sys.Name, d)
		}
		return o
	})
}

// TestMemfdAdviseLock: memfd objects map like files; madvise and mlock
// accept what the kernel accepts and reject the rest with the same errno.
func TestMemfdAdviseLock(t *testing.T) {
	each(t, func(t *testing.T, sys sysapi.Impl) map[string]string {
		o := map[string]string{}
		fd, err := sys.MemfdCreate("shmmap-test", unix.MFD_CLOEXEC)
		if err != nil {
			t.Fatal(err)
		}
		defer sys.Close(fd)
		if err := sys.Ftruncate(fd, 4096); err != nil {
			t.Fatal(err)
		}
		b, err := sys.Mmap(fd, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			t.Fatal(err)
		}
		defer sys.Munmap(b)
		_, err = sys.MemfdCreate(strings.Repeat("x", 300), 0)
		o["memfd long name"] = errString(err)
		_, err = sys.MemfdCreate("x", 0x7fff0000)
		o["memfd bad flags"] = errString(err)
		o["madvise willneed"] = errString(sys.Madvise(b, unix.MADV_WILLNEED))
		o["madvise bad advice"] = errString(sys.Madvise(b, 9999))
		o["madvise unaligned"] = errString(sys.Madvise(b[1:], unix.MADV_NORMAL))
		o["mlock"] = errString(sys.Mlock(b))
		o["munlock"] = errString(sys.Munlock(b))
		o["ftruncate bad fd"] = errString(sys.Ftruncate(-1, 0))
		o["ftruncate negative"] = errString(sys.Ftruncate(fd, -1))
		want := map[string]string{
			"memfd long name":    errString(unix.EINVAL),
			"memfd bad flags":    errString(unix.EINVAL),
			"madvise willneed":   "",
			"madvise bad advice": errString(unix.EINVAL),
			"madvise unaligned":  errString(unix.EINVAL),
			"mlock":              "",
			"munlock":            "",
			"ftruncate bad fd":   errString(unix.EBADF),
			"ftruncate negative": errString(unix.EINVAL),
		}
		if d := cmp.Diff(want, o); d != "" {
			t.Errorf("%s (-want +got):\n%s", sys.Name, d)
		}
		return o
	})
}
