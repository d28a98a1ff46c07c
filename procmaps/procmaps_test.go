//go:build linux

package procmaps

import (
	"bytes"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// executable returns the test binary's path as the kernel prints it.
func executable(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	exe, err = filepath.EvalSymlinks(exe)
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

// findText reports whether ms holds an r-xp mapping of path.
func findText(ms []Mapping, path string) bool {
	for _, m := range ms {
		if m.Pathname == path && m.PermString() == "r-xp" {
			return true
		}
	}
	return false
}

// TestProcSelfMaps parses a snapshot of /proc/self/maps and checks that
// String reproduces every line byte for byte, which pins down the kernel's
// layout, and that the test binary's text is found.
func TestProcSelfMaps(t *testing.T) {
	raw, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	ms, err := Parse(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	if len(lines) != len(ms) {
		t.Fatalf("%d lines but %d mappings", len(lines), len(ms))
	}
	for i, line := range lines {
		m := ms[i]
		if s := m.String(); s != line {
			t.Errorf("line %d: String() differs from the kernel's line\n got %q\nwant %q", i+1, s, line)
		}
		again, err := ParseLine(m.String())
		if err != nil {
			t.Errorf("line %d: ParseLine(String()): %v", i+1, err)
		} else if diff := cmp.Diff(m, again); diff != "" {
			t.Errorf("line %d: round trip mismatch (-first +second):\n%s", i+1, diff)
		}
		if i > 0 && m.Start < ms[i-1].End {
			t.Errorf("line %d: mapping %x-%x overlaps or precedes the one before", i+1, m.Start, m.End)
		}
	}
	if exe := executable(t); !findText(ms, exe) {
		t.Errorf("no r-xp mapping of %q in\n%s", exe, raw)
	}
}

func TestSelfAndReadPID(t *testing.T) {
	exe := executable(t)
	self, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	if !findText(self, exe) {
		t.Errorf("Self: no r-xp mapping of %q", exe)
	}
	byPID, err := ReadPID(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if !findText(byPID, exe) {
		t.Errorf("ReadPID: no r-xp mapping of %q", exe)
	}
}

func TestReadPIDMissing(t *testing.T) {
	// Above PID_MAX_LIMIT (4194304), so no such process can exist.
	for _, pid := range []int{math.MaxInt32, -1} {
		ms, err := ReadPID(pid)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("ReadPID(%d) = %d mappings, %v; want fs.ErrNotExist", pid, len(ms), err)
		}
	}
}

// addr returns the address of the first byte of b.
func addr(b []byte) uint64 {
	return uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
}

// mapping finds the mapping of /proc/self/maps that starts at start.
func mapping(t *testing.T, start uint64) Mapping {
	t.Helper()
	ms, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Start == start {
			return m
		}
	}
	t.Fatalf("no mapping starts at %#x", start)
	return Mapping{}
}

// mmapFile maps length bytes of f at offset, shared, and unmaps at cleanup.
func mmapFile(t *testing.T, f *os.File, offset int64, length, prot int) []byte {
	t.Helper()
	b, err := unix.Mmap(int(f.Fd()), offset, length, prot, unix.MAP_SHARED)
	if err != nil {
		t.Fatalf("mmap %s at %#x: %v", f.Name(), offset, err)
	}
	t.Cleanup(func() {
		if err := unix.Munmap(b); err != nil {
			t.Errorf("munmap: %v", err)
		}
	})
	return b
}

// TestMmapFileNames maps files with awkward names and finds them, with the
// exact path, permissions, offset, device and inode.
func TestMmapFileNames(t *testing.T) {
	page := os.Getpagesize()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string // file name
		want string // its name as the kernel prints it
	}{
		{"file with spaces", "file with spaces"},
		{"   leading spaces", "   leading spaces"},
		{"trailing spaces   ", "trailing spaces   "},
		{"tab\tcr\rbackslash\\", "tab\tcr\rbackslash\\"},
		{"new\nline", `new\012line`},
		{`literal\012`, `literal\012`}, // looks the same as a newline
		{"fake (deleted)", "fake (deleted)"},
		{"SYSV00001235", "SYSV00001235"},
	}
	for _, tt := range tests {
		t.Run(strings.Map(func(r rune) rune {
			if r < ' ' {
				return '_'
			}
			return r
		}, tt.name), func(t *testing.T) {
			path := filepath.Join(dir, tt.name)
			f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := f.Truncate(int64(2 * page)); err != nil {
				t.Fatal(err)
			}
			var st unix.Stat_t
			if err := unix.Fstat(int(f.Fd()), &st); err != nil {
				t.Fatal(err)
			}
			wantPath := filepath.Join(dir, tt.want)

			rw := mmapFile(t, f, 0, page, unix.PROT_READ|unix.PROT_WRITE)
			ro := mmapFile(t, f, int64(page), page, unix.PROT_READ)
			for _, c := range []struct {
				b      []byte
				perms  string
				offset uint64
			}{{rw, "rw-s", 0}, {ro, "r--s", uint64(page)}} {
				m := mapping(t, addr(c.b))
				want := Mapping{
					Start: addr(c.b), End: addr(c.b) + uint64(page),
					Perms:  m.Perms, // checked below as a string
					Offset: c.offset,
					Dev:    Dev{Major: unix.Major(uint64(st.Dev)), Minor: unix.Minor(uint64(st.Dev))},
					Inode:  uint64(st.Ino), Pathname: wantPath,
				}
				if diff := cmp.Diff(want, m); diff != "" {
					t.Errorf("mapping mismatch (-want +got):\n%s", diff)
				}
				if m.PermString() != c.perms {
					t.Errorf("perms %s, want %s", m.PermString(), c.perms)
				}
				if m.Deleted() != strings.HasSuffix(tt.name, " (deleted)") {
					t.Errorf("Deleted() = %v", m.Deleted())
				}
				if _, _, ok := m.SysV(); ok {
					t.Errorf("SysV() ok for %q", m.Pathname)
				}
			}

			// Once unlinked, the kernel appends " (deleted)".
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			m := mapping(t, addr(rw))
			if m.Pathname != wantPath+" (deleted)" || !m.Deleted() {
				t.Errorf("after unlink: Pathname %q, Deleted() %v", m.Pathname, m.Deleted())
			}
		})
	}
}

// TestMmapLargeOffset checks an offset wider than the kernel's minimum of
// 8 hex digits. The pages are beyond the end of the file and never touched.
func TestMmapLargeOffset(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "sparse"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const offset = 1 << 40
	b := mmapFile(t, f, offset, os.Getpagesize(), unix.PROT_READ)
	m := mapping(t, addr(b))
	if m.Offset != offset || !strings.Contains(m.String(), " 10000000000 ") {
		t.Errorf("offset %#x in %q, want %#x", m.Offset, m.String(), uint64(offset))
	}
}

func TestMemfd(t *testing.T) {
	fd, err := unix.MemfdCreate("procmaps test", unix.MFD_CLOEXEC)
	if err != nil {
		t.Skipf("memfd_create: %v", err)
	}
	f := os.NewFile(uintptr(fd), "memfd")
	defer f.Close()
	page := os.Getpagesize()
	if err := f.Truncate(int64(page)); err != nil {
		t.Fatal(err)
	}
	b := mmapFile(t, f, 0, page, unix.PROT_READ|unix.PROT_WRITE)
	m := mapping(t, addr(b))
	if m.Pathname != "/memfd:procmaps test (deleted)" || m.PermString() != "rw-s" || !m.Deleted() {
		t.Errorf("memfd mapping: %q", m.String())
	}
}

// TestSysVSegment attaches a private System V segment and finds it with
// SysV. The segment is marked for removal as soon as it is attached, so it
// goes away with the process even if the test dies.
func TestSysVSegment(t *testing.T) {
	const size = 4096
	id, err := unix.SysvShmGet(unix.IPC_PRIVATE, size, unix.IPC_CREAT|0o600)
	if err != nil {
		t.Skipf("shmget: %v", err)
	}
	removed := false
	remove := func() {
		if removed {
			return
		}
		removed = true
		if _, err := unix.SysvShmCtl(id, unix.IPC_RMID, nil); err != nil {
			t.Errorf("shmctl(%d, IPC_RMID): %v", id, err)
		}
	}
	t.Cleanup(remove)

	rw, err := unix.SysvShmAttach(id, 0, 0)
	if err != nil {
		t.Fatalf("shmat: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.SysvShmDetach(rw); err != nil {
			t.Errorf("shmdt: %v", err)
		}
	})
	ro, err := unix.SysvShmAttach(id, 0, unix.SHM_RDONLY)
	if err != nil {
		t.Fatalf("shmat SHM_RDONLY: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.SysvShmDetach(ro); err != nil {
			t.Errorf("shmdt: %v", err)
		}
	})
	remove()

	for _, c := range []struct {
		b     []byte
		perms string
	}{{rw, "rw-s"}, {ro, "r--s"}} {
		m := mapping(t, addr(c.b))
		key, shmid, ok := m.SysV()
		if !ok || key != 0 || shmid != id {
			t.Errorf("SysV() of %q = %d, %d, %v; want 0, %d, true", m.String(), key, shmid, ok, id)
		}
		if m.PermString() != c.perms || m.Len() < size || m.Pathname != "/SYSV00000000 (deleted)" {
			t.Errorf("segment mapping %q", m.String())
		}
	}
}
