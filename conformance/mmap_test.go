package conformance

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

type mapOutcome struct {
	Len        int
	Mapped     []byte // what the mapping holds after the write
	ReadBack   []byte // what read(2) on the same descriptor returns
	FileBytes  []byte // what the file holds after munmap and close
	MsyncErr   string
	MunmapErr  string
	ReadErr    string
	InitialLen int64
}

// mapAndWrite maps a fresh file with flags, writes through the mapping and
// observes the mapping, read(2) and the file.
func mapAndWrite(t *testing.T, sys sysapi.Impl, flags int) mapOutcome {
	path := filepath.Join(t.TempDir(), "mmap.txt")
	if err := os.WriteFile(path, []byte("memory map me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fd, err := sys.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close(fd)
	var o mapOutcome
	if o.InitialLen, err = sys.Fstat(fd); err != nil {
		t.Fatal(err)
	}
	b, err := sys.Mmap(fd, 0, int(o.InitialLen), unix.PROT_READ|unix.PROT_WRITE, flags)
	if err != nil {
		t.Fatalf("mmap: %v", err)
	}
	o.Len = len(b)
	copy(b, "txt changed!\n")
	o.Mapped = bytes.Clone(b)
	buf := make([]byte, 64)
	n, err := sys.Read(fd, buf)
	o.ReadErr = errString(err)
	if n > 0 {
		o.ReadBack = buf[:n]
	}
	o.MsyncErr = errString(sys.Msync(b, unix.MS_SYNC))
	o.MunmapErr = errString(sys.Munmap(b))
	if o.FileBytes, err = os.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	return o
}

func TestMmapShared(t *testing.T) {
	got := each(t, func(t *testing.T, sys sysapi.Impl) mapOutcome { return mapAndWrite(t, sys, unix.MAP_SHARED) })
	for name, o := range got {
		changed := []byte("txt changed!\n\n")
		want := mapOutcome{Len: 14, Mapped: changed, ReadBack: changed, FileBytes: changed, InitialLen: 14}
		if d := cmp.Diff(want, o); d != "" {
			t.Errorf("%s: MAP_SHARED write must reach read(2) and the file (-want +got):\n%s", name, d)
		}
	}
}

func TestMmapPrivate(t *testing.T) {
	got := each(t, func(t *testing.T, sys sysapi.Impl) mapOutcome { return mapAndWrite(t, sys, unix.MAP_PRIVATE) })
	for name, o := range got {
		orig := []byte("memory map me\n")
		want := mapOutcome{Len: 14, Mapped: []byte("txt changed!\n\n"), ReadBack: orig, FileBytes: orig, InitialLen: 14}
		if d := cmp.Diff(want, o); d != "" {
			t.Errorf("%s: MAP_PRIVATE write must stay in the mapping (-want +got):\n%s", name, d)
		}
	}
}

func TestMmapErrors(t *testing.T) {
	got := each(t, func(t *testing.T, sys sysapi.Impl) map[string]string {
		dir := t.TempDir()
		empty := filepath.Join(dir, "empty")
		if err := os.WriteFile(empty, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		o := map[string]string{}
		_, err := sys.Open(filepath.Join(dir, "missing"), unix.O_RDWR, 0)
		o["open missing"] = errString(err)
		_, err = sys.Open(dir, unix.O_RDWR, 0)
		o["open directory read-write"] = errString(err)

		fd, err := sys.Open(empty, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer sys.Close(fd)
		_, err = sys.Mmap(fd, 0, 0, unix.PROT_READ, unix.MAP_SHARED)
		o["mmap length 0"] = errString(err)
		_, err = sys.Mmap(fd, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		o["mmap shared writable on read-only fd"] = errString(err)
		_, err = sys.Mmap(fd, 1, 4096, unix.PROT_READ, unix.MAP_SHARED)
		o["mmap unaligned offset"] = errString(err)
		_, err = sys.Mmap(-1, 0, 4096, unix.PROT_READ, unix.MAP_SHARED)
		o["mmap bad fd"] = errString(err)
		_, err = sys.Fstat(-1)
		o["fstat bad fd"] = errString(err)
		_, err = sys.Read(-1, make([]byte, 1))
		o["read bad fd"] = errString(err)
		o["close bad fd"] = errString(sys.Close(-1))
		o["munmap nil"] = errString(sys.Munmap(nil))
		return o
	})
	want := map[string]string{
		"open missing":                         errString(unix.ENOENT),
		"open directory read-write":            errString(unix.EISDIR),
		"mmap length 0":                        errString(unix.EINVAL),
		"mmap shared writable on read-only fd": errString(unix.EACCES),
		"mmap unaligned offset":                errString(unix.EINVAL),
		"mmap bad fd":                          errString(unix.EBADF),
		"fstat bad fd":                         errString(unix.EBADF),
		"read bad fd":                          errString(unix.EBADF),
		"close bad fd":                         errString(unix.EBADF),
		"munmap nil":                           errString(unix.EINVAL),
	}
	for name, o := range got {
		if d := cmp.Diff(want, o); d != "" {
			t.Errorf("%s: errnos differ from the man pages (-want +got):\n%s", name, d)
		}
	}
}
