package conformance

// The root package's Mapping API (Map, MapFile and the Mapping methods) run
// unchanged over every implementation through shmmap.Using. Every file is
// in the scenario's t.TempDir and every mapping is closed by t.Cleanup.

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// apiPage is the page size the offsets below are chosen around.
var apiPage = os.Getpagesize()

// apiPattern is n recognisable bytes: byte i is 'a'+i%26, except that
// every 1000th is a digit so offsets cannot be confused.
func apiPattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%26)
		if i%1000 == 0 {
			b[i] = byte('0' + i/1000%10)
		}
	}
	return b
}

// apiFile writes content to a new file in the test's temporary directory.
func apiFile(t *testing.T, name string, content []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// apiOpen opens path with flag and closes it when the test ends.
func apiOpen(t *testing.T, path string, flag int) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// apiClosing closes m when the test ends (Close is idempotent).
func apiClosing(t *testing.T, m *shmmap.Mapping) *shmmap.Mapping {
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("Close at cleanup: %v", err)
		}
	})
	return m
}

func apiMustMapFile(t *testing.T, s *shmmap.System, path string, mode shmmap.MapMode) *shmmap.Mapping {
	t.Helper()
	m, err := s.MapFile(path, mode)
	if err != nil {
		t.Fatalf("MapFile(%s, %v): %v", path, mode, err)
	}
	return apiClosing(t, m)
}

func apiMustMap(t *testing.T, s *shmmap.System, f *os.File, off int64, length int, mode shmmap.MapMode) *shmmap.Mapping {
	t.Helper()
	m, err := s.Map(f, off, length, mode)
	if err != nil {
		t.Fatalf("Map(%s, %d, %d, %v): %v", f.Name(), off, length, mode, err)
	}
	return apiClosing(t, m)
}

// apiReadFile reads the file at path, or stops the test.
func apiReadFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// apiPathErr checks that err is an *fs.PathError for op and path.
func apiPathErr(t *testing.T, what string, err error, op, path string) {
	t.Helper()
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		t.Errorf("%s: error %v (%T) is not an *fs.PathError", what, err, err)
		return
	}
	if pe.Op != op || pe.Path != path {
		t.Errorf("%s: PathError{Op: %q, Path: %q}, want {Op: %q, Path: %q}", what, pe.Op, pe.Path, op, path)
	}
}

// TestAPIMapShared: a MapShared write reaches the file (read(2) sees it at
// once, without Sync) and every other shared mapping of it, whichever way
// that was made.
func TestAPIMapShared(t *testing.T) {
	size := 3 * apiPage
	type outcome struct {
		Len           int
		Write         apiIO
		FileHas       string
		OtherMapping  string
		ReadOnlySees  string
		BackFromOther string
		Sync          string
		AfterClose    string
		FileIntact    bool
	}
	got := each(t, func(t *testing.T, sys sysapi.Impl) outcome {
		s := shmmap.Using(sys)
		content := apiPattern(size)
		path := apiFile(t, "shared", content)
		f := apiOpen(t, path, os.O_RDWR)
		m := apiMustMap(t, s, f, 0, 0, shmmap.MapShared)
		other := apiMustMapFile(t, s, path, shmmap.MapShared)
		ro := apiMustMapFile(t, s, path, shmmap.MapReadOnly)
		f.Close() // the mapping outlives the descriptor

		o := outcome{Len: m.Len()}
		o.Write = apiWrite(m, "through the mapping", int64(size-100))
		o.FileHas = string(apiReadFile(t, path)[size-100 : size-81])
		o.OtherMapping = apiRead(other, 19, int64(size-100)).Data
		o.ReadOnlySees = string(ro.Bytes()[size-100 : size-81])
		if _, err := other.WriteAt([]byte("back"), 7); err != nil {
			t.Fatal(err)
		}
		o.BackFromOther = apiRead(m, 4, 7).Data
		o.Sync = apiErr(m.Sync())
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		o.AfterClose = string(apiReadFile(t, path)[size-100 : size-81])
		want := bytes.Clone(content)
		copy(want[size-100:], "through the mapping")
		copy(want[7:], "back")
		o.FileIntact = bytes.Equal(apiReadFile(t, path), want)
		return o
	})
	want := outcome{Len: size, Write: apiIO{N: 19}, FileHas: "through the mapping", OtherMapping: "through the mapping",
		ReadOnlySees: "through the mapping", BackFromOther: "back", AfterClose: "through the mapping", FileIntact: true}
	for name, o := range got {
		if d := cmp.Diff(want, o); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
}

// TestAPIMapPrivate: MapPrivate writes are copy-on-write (mmap(2),
// MAP_PRIVATE): the mapping sees them, the file and other mappings never
// do, even after Sync.
func TestAPIMapPrivate(t *testing.T) {
	type outcome struct {
		Write        apiIO
		Mapping      string
		FileHas      string
		SharedSees   string
		Sync         string
		FileUnchaged bool
		ReadOnlyFD   string
	}
	got := each(t, func(t *testing.T, sys sysapi.Impl) outcome {
		s := shmmap.Using(sys)
		content := apiPattern(2 * apiPage)
		path := apiFile(t, "private", content)
		m := apiMustMapFile(t, s, path, shmmap.MapPrivate)
		shared := apiMustMapFile(t, s, path, shmmap.MapShared)
		var o outcome
		o.Write = apiWrite(m, "private", 3000)
		o.Mapping = apiRead(m, 7, 3000).Data
		o.FileHas = string(apiReadFile(t, path)[3000:3007])
		o.SharedSees = apiRead(shared, 7, 3000).Data
		o.Sync = apiErr(m.Sync())
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		o.FileUnchaged = bytes.Equal(apiReadFile(t, path), content)

		// A private writable mapping needs only read access to the file.
		f := apiOpen(t, path, os.O_RDONLY)
		p, err := s.Map(f, 0, 0, shmmap.MapPrivate)
		o.ReadOnlyFD = apiErr(err)
		if err == nil {
			apiClosing(t, p)
			if w := apiWrite(p, "cow", 0); w.Err != "" {
				t.Errorf("WriteAt to a private mapping of a read-only descriptor: %s", w.Err)
			}
		}
		return o
	})
	orig := string(apiPattern(2 * apiPage)[3000:3007])
	want := outcome{Write: apiIO{N: 7}, Mapping: "private", FileHas: orig, SharedSees: orig, FileUnchaged: true}
	for name, o := range got {
		if d := cmp.Diff(want, o); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
}

// TestAPIMapReadOnly: WriteAt on a MapReadOnly mapping is ErrReadOnly and
// changes nothing; the mapping is shared, so it sees writes others make to
// the file.
func TestAPIMapReadOnly(t *testing.T) {
	type outcome struct {
		Write         apiIO
		Unchanged     bool
		SeesFileWrite string
		SeesMapWrite  string
		Sync, Advise  string
		SharedOnRDONL string
	}
	got := each(t, func(t *testing.T, sys sysapi.Impl) outcome {
		s := shmmap.Using(sys)
		content := apiPattern(apiPage + 10)
		path := apiFile(t, "readonly", content)
		ro := apiMustMapFile(t, s, path, shmmap.MapReadOnly)
		var o outcome
		o.Write = apiWrite(ro, "nope", 5)
		_, err := ro.WriteAt([]byte("nope"), 5)
		apiPathErr(t, "WriteAt on MapReadOnly", err, "write", path)
		o.Unchanged = bytes.Equal(ro.Bytes(), content) && bytes.Equal(apiReadFile(t, path), content)

		f := apiOpen(t, path, os.O_RDWR)
		if _, err := f.WriteAt([]byte("pwrite"), int64(apiPage+2)); err != nil {
			t.Fatal(err)
		}
		o.SeesFileWrite = apiRead(ro, 6, int64(apiPage+2)).Data
		w := apiMustMap(t, s, f, 0, 0, shmmap.MapShared)
		copy(w.Bytes()[100:], "zero-copy")
		o.SeesMapWrite = apiRead(ro, 9, 100).Data
		o.Sync, o.Advise = apiErr(ro.Sync()), apiErr(ro.Advise(unix.MADV_RANDOM))

		// MapShared needs a descriptor open for writing (mmap(2): EACCES).
		rdonly := apiOpen(t, path, os.O_RDONLY)
		_, err = s.Map(rdonly, 0, 0, shmmap.MapShared)
		o.SharedOnRDONL = apiErr(err)
		apiPathErr(t, "MapShared on O_RDONLY", err, "mmap", path)
		return o
	})
	want := outcome{Write: apiIO{Err: "PathError write ErrReadOnly"}, Unchanged: true,
		SeesFileWrite: "pwrite", SeesMapWrite: "zero-copy",
		SharedOnRDONL: "PathError mmap ErrPermission EACCES"}
	for name, o := range got {
		if d := cmp.Diff(want, o); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
}

// TestAPIMapOffset: Map takes any offset, not only page-aligned ones, and
// gives exactly the bytes asked for; writes land at that offset of the
// file and never spill past the mapping's end. Length 0 maps to the end of
// the file.
func TestAPIMapOffset(t *testing.T) {
	size := 3 * apiPage
	const off, length = 5000, 100
	type outcome struct {
		Len          int
		Bytes        bool
		Read         apiIO
		ReadAcross   apiIO
		Write        apiIO
		WriteAcross  apiIO
		FileWrite    string
		FileAfter    byte // the byte just past the mapping: untouched
		OutOfRange   apiIO
		Advise, Lock string
		ToEnd        map[int64]int // offset -> Len for length 0
		ToEndBytes   bool
		Negative     []string
	}
	got := each(t, func(t *testing.T, sys sysapi.Impl) outcome {
		s := shmmap.Using(sys)
		content := apiPattern(size)
		path := apiFile(t, "offset", content)
		f := apiOpen(t, path, os.O_RDWR)
		m := apiMustMap(t, s, f, off, length, shmmap.MapShared)
		o := outcome{Len: m.Len(), ToEnd: map[int64]int{}}
		o.Bytes = bytes.Equal(m.Bytes(), content[off:off+length])
		o.Read = apiRead(m, 10, 0)
		o.ReadAcross = apiRead(m, 10, length-5)
		o.Write = apiWrite(m, "XYZ", 10)
		o.WriteAcross = apiWrite(m, "abcdef", length-3)
		file := apiReadFile(t, path)
		o.FileWrite = string(file[off+10:off+13]) + "|" + string(file[off+length-3:off+length])
		o.FileAfter = file[off+length]
		o.OutOfRange = apiRead(m, 1, length+1)
		// The system calls act on the whole pages under the mapping.
		o.Advise, o.Lock = apiErr(m.Advise(unix.MADV_SEQUENTIAL)), apiErr(m.Lock())
		if err := m.Unlock(); err != nil {
			t.Errorf("Unlock: %v", err)
		}

		for _, at := range []int64{0, 1, off, int64(apiPage), int64(size - 1), int64(size), int64(size + apiPage + 1)} {
			e := apiMustMap(t, s, f, at, 0, shmmap.MapReadOnly)
			o.ToEnd[at] = e.Len()
			if at == off {
				o.ToEndBytes = bytes.Equal(e.Bytes(), apiReadFile(t, path)[off:])
			}
		}
		for _, c := range []struct {
			off    int64
			length int
		}{{-1, 0}, {-int64(apiPage), 10}, {0, -1}} {
			_, err := s.Map(f, c.off, c.length, shmmap.MapShared)
			o.Negative = append(o.Negative, apiErr(err))
		}
		return o
	})
	rest := func(at int) int { return max(size-at, 0) }
	want := outcome{Len: length, Bytes: true,
		Read:        apiIO{N: 10, Data: string(apiPattern(size)[off : off+10])},
		ReadAcross:  apiIO{N: 5, Err: "EOF", Data: string(apiPattern(size)[off+length-5 : off+length])},
		Write:       apiIO{N: 3},
		WriteAcross: apiIO{N: 3, Err: "PathError write ErrShortWrite"},
		FileWrite:   "XYZ|abc",
		FileAfter:   apiPattern(size)[off+length],
		OutOfRange:  apiIO{Err: "PathError read ErrOutOfRange"},
		ToEnd: map[int64]int{0: size, 1: size - 1, off: rest(off), int64(apiPage): size - apiPage,
			int64(size - 1): 1, int64(size): 0, int64(size + apiPage + 1): 0},
		ToEndBytes: true,
		Negative:   []string{"PathError mmap EINVAL", "PathError mmap EINVAL", "PathError mmap EINVAL"},
	}
	for name, o := range got {
		if d := cmp.Diff(want, o); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
}

// TestAPIMapEmptyFile: an empty file maps to an empty Mapping, whose
// methods behave as on any mapping with no bytes left.
func TestAPIMapEmptyFile(t *testing.T) {
	type outcome struct {
		Len                 int
		BytesLen            int
		Read, ReadPast      apiIO
		Write, WriteRO      apiIO
		Calls               []string
		Close, CloseAgain   string
		AfterClose          apiIO
		AfterCloseLen       int
		AfterCloseBytesNil  bool
		AfterCloseSyncError string
	}
	got := each(t, func(t *testing.T, sys sysapi.Impl) outcome {
		s := shmmap.Using(sys)
		path := apiFile(t, "empty", nil)
		m := apiMustMapFile(t, s, path, shmmap.MapShared)
		ro := apiMustMapFile(t, s, path, shmmap.MapReadOnly)
		o := outcome{Len: m.Len(), BytesLen: len(m.Bytes())}
		o.Read, o.ReadPast = apiRead(m, 1, 0), apiRead(m, 1, 1)
		o.Write, o.WriteRO = apiWrite(m, "x", 0), apiWrite(ro, "x", 0)
		o.Calls = []string{apiErr(m.Sync()), apiErr(m.Advise(unix.MADV_SEQUENTIAL)), apiErr(m.Lock()), apiErr(m.Unlock())}
		o.Close, o.CloseAgain = apiErr(m.Close()), apiErr(m.Close())
		o.AfterClose = apiRead(m, 1, 0)
		o.AfterCloseLen, o.AfterCloseBytesNil = m.Len(), m.Bytes() == nil
		o.AfterCloseSyncError = apiErr(m.Sync())
		if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
			t.Errorf("the empty file after mapping: %v, %v", fi, err)
		}
		return o
	})
	want := outcome{
		Read: apiIO{Err: "EOF"}, ReadPast: apiIO{Err: "PathError read ErrOutOfRange"},
		Write: apiIO{Err: "PathError write ErrShortWrite"}, WriteRO: apiIO{Err: "PathError write ErrReadOnly"},
		Calls:      []string{"", "", "", ""},
		AfterClose: apiIO{Err: "PathError read ErrClosed"}, AfterCloseBytesNil: true,
		AfterCloseSyncError: "PathError msync ErrClosed",
	}
	for name, o := range got {
		if d := cmp.Diff(want, o); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
}

// TestAPIMappingCalls: Sync, Advise, Lock and Unlock succeed on a live
// mapping; bad advice is EINVAL (madvise(2)) in an *fs.PathError; Close is
// idempotent and every method after it is ErrClosed.
func TestAPIMappingCalls(t *testing.T) {
	type outcome struct {
		Live        map[string]string
		BadAdvice   string
		Close       [2]string
		After       map[string]string
		AfterLen    int
		AfterBytes  bool
		FileKeepsIt bool
	}
	got := each(t, func(t *testing.T, sys sysapi.Impl) outcome {
		s := shmmap.Using(sys)
		path := apiFile(t, "calls", apiPattern(2*apiPage))
		m := apiMustMapFile(t, s, path, shmmap.MapShared)
		o := outcome{Live: map[string]string{}, After: map[string]string{}}
		if _, err := m.WriteAt([]byte("synced"), 0); err != nil {
			t.Fatal(err)
		}
		o.Live["Sync"] = apiErr(m.Sync())
		o.Live["Advise SEQUENTIAL"] = apiErr(m.Advise(unix.MADV_SEQUENTIAL))
		o.Live["Advise WILLNEED"] = apiErr(m.Advise(unix.MADV_WILLNEED))
		o.Live["Advise NORMAL"] = apiErr(m.Advise(unix.MADV_NORMAL))
		o.Live["Lock"] = apiErr(m.Lock())
		o.Live["Unlock"] = apiErr(m.Unlock())
		err := m.Advise(9999)
		o.BadAdvice = apiErr(err)
		apiPathErr(t, "Advise(9999)", err, "madvise", path)
		if !errors.Is(err, unix.EINVAL) {
			t.Errorf("Advise(9999) = %v, want EINVAL", err)
		}
		o.Close = [2]string{apiErr(m.Close()), apiErr(m.Close())}
		_, err = m.ReadAt(make([]byte, 1), 0)
		o.After["ReadAt"] = apiErr(err)
		_, err = m.WriteAt([]byte("x"), 0)
		o.After["WriteAt"] = apiErr(err)
		o.After["Sync"] = apiErr(m.Sync())
		o.After["Advise"] = apiErr(m.Advise(unix.MADV_NORMAL))
		o.After["Lock"] = apiErr(m.Lock())
		o.After["Unlock"] = apiErr(m.Unlock())
		o.AfterLen, o.AfterBytes = m.Len(), m.Bytes() == nil
		o.FileKeepsIt = string(apiReadFile(t, path)[:6]) == "synced"
		return o
	})
	want := outcome{
		Live:      map[string]string{"Sync": "", "Advise SEQUENTIAL": "", "Advise WILLNEED": "", "Advise NORMAL": "", "Lock": "", "Unlock": ""},
		BadAdvice: "PathError madvise EINVAL",
		After: map[string]string{"ReadAt": "PathError read ErrClosed", "WriteAt": "PathError write ErrClosed",
			"Sync": "PathError msync ErrClosed", "Advise": "PathError madvise ErrClosed",
			"Lock": "PathError mlock ErrClosed", "Unlock": "PathError munlock ErrClosed"},
		AfterBytes: true, FileKeepsIt: true,
	}
	for name, o := range got {
		if d := cmp.Diff(want, o); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
}

// TestAPIMapFault: touching pages past the end of the file raises SIGBUS
// (mmap(2)); the API turns it into an error matching ErrFault, carrying the
// faulting address in a *FaultError, and the process goes on. That holds
// for a file truncated under the mapping and for a mapping made past the
// end of the file.
func TestAPIMapFault(t *testing.T) {
	size := 3 * apiPage
	type outcome struct {
		Read, Write      apiIO
		ReadLate         apiIO // a later page
		FaultInMapping   bool
		PathErr          bool
		Regrown          apiIO // after the file grows back: zeros
		PastEOFMap       string
		PastEOFRead      apiIO
		PastEOFWrite     apiIO
		TailOfLastPage   apiIO // bytes past EOF in the last page read as 0
		CloseAfterFaults string
	}
	got := each(t, func(t *testing.T, sys sysapi.Impl) outcome {
		s := shmmap.Using(sys)
		path := apiFile(t, "fault", apiPattern(size))
		m := apiMustMapFile(t, s, path, shmmap.MapShared)
		if err := os.Truncate(path, 0); err != nil {
			t.Fatal(err)
		}
		var o outcome
		o.Read = apiRead(m, 10, 0)
		o.Write = apiWrite(m, "lost", 5)
		o.ReadLate = apiRead(m, 10, int64(2*apiPage+1))
		_, err := m.ReadAt(make([]byte, 10), int64(apiPage+3))
		var fe *shmmap.FaultError
		if errors.As(err, &fe) {
			start := uintptr(unsafe.Pointer(unsafe.SliceData(m.Bytes())))
			o.FaultInMapping = fe.Addr >= start && fe.Addr < start+uintptr(m.Len())
			if !errors.Is(fe, shmmap.ErrFault) || fe.Error() == "" {
				t.Errorf("FaultError %v does not match ErrFault", fe)
			}
		}
		var pe *fs.PathError
		o.PathErr = errors.As(err, &pe) && pe.Op == "read" && pe.Path == path
		if err := os.Truncate(path, int64(size)); err != nil {
			t.Fatal(err)
		}
		o.Regrown = apiRead(m, 4, 5)

		// Mapping past the end of the file succeeds; touching it faults.
		f := apiOpen(t, path, os.O_RDWR)
		p, err := s.Map(f, int64(size+apiPage+10), 100, shmmap.MapShared)
		o.PastEOFMap = apiErr(err)
		if err == nil {
			apiClosing(t, p)
			o.PastEOFRead = apiRead(p, 10, 0)
			o.PastEOFWrite = apiWrite(p, "x", 99)
		}
		// The page holding the end of the file is mapped whole; past EOF
		// inside it reads zeros, not a fault.
		short := apiFile(t, "short", []byte("12345"))
		sm := apiMustMap(t, s, apiOpen(t, short, os.O_RDWR), 0, 100, shmmap.MapShared)
		o.TailOfLastPage = apiRead(sm, 10, 0)
		o.CloseAfterFaults = apiErr(m.Close())
		return o
	})
	fault := func(op string) apiIO { return apiIO{Err: "PathError " + op + " ErrFault"} }
	want := outcome{
		Read: fault("read"), Write: fault("write"), ReadLate: fault("read"),
		FaultInMapping: true, PathErr: true,
		Regrown:    apiIO{N: 4, Data: "\x00\x00\x00\x00"},
		PastEOFMap: "", PastEOFRead: fault("read"), PastEOFWrite: fault("write"),
		TailOfLastPage: apiIO{N: 10, Data: "12345\x00\x00\x00\x00\x00"},
	}
	for name, o := range got {
		if d := cmp.Diff(want, o); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
}

// TestAPIMapFileErrors: MapFile reports the open and mmap errors of the
// file in *fs.PathError values that match the fs sentinels.
func TestAPIMapFileErrors(t *testing.T) {
	type outcome map[string]string
	got := each(t, func(t *testing.T, sys sysapi.Impl) outcome {
		s := shmmap.Using(sys)
		dir := t.TempDir()
		o := outcome{}
		_, err := s.MapFile(filepath.Join(dir, "missing"), shmmap.MapReadOnly)
		o["missing"] = apiErr(err)
		_, err = s.MapFile(dir, shmmap.MapShared)
		o["directory read-write"] = apiErr(err)
		// A directory opens read-only, but it has no pages to map.
		_, err = s.MapFile(dir, shmmap.MapReadOnly)
		o["directory read-only"] = apiErr(err)
		apiPathErr(t, "MapFile of a directory", err, "mmap", dir)
		m, err := s.MapFile("/dev/null", shmmap.MapReadOnly)
		o["/dev/null"] = apiErr(err)
		if err == nil {
			o["/dev/null len"] = apiRead(apiClosing(t, m), 1, 0).Err
		}
		return o
	})
	want := outcome{
		"missing":              "PathError open ErrNotExist ENOENT",
		"directory read-write": "PathError open EISDIR",
		"directory read-only":  "PathError mmap ENODEV",
		"/dev/null":            "", // fstat says 0 bytes: an empty mapping
		"/dev/null len":        "EOF",
	}
	for name, o := range got {
		if d := cmp.Diff(want, o); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
}

var _ io.ReaderAt = (*shmmap.Mapping)(nil)
var _ io.WriterAt = (*shmmap.Mapping)(nil)

// apiOpenFDs counts this process's open descriptors.
func apiOpenFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestAPINoDescriptorLeak: MapFile closes the file it opens (the mapping
// does not need it), and Memfd closes its descriptor when it fails; neither
// leaves the closing to the garbage collector.
func TestAPINoDescriptorLeak(t *testing.T) {
	const n = 20
	type outcome struct{ Leaked map[string]int }
	got := each(t, func(t *testing.T, sys sysapi.Impl) outcome {
		s := shmmap.Using(sys)
		path := apiFile(t, "fds", apiPattern(apiPage))
		empty := apiFile(t, "empty", nil)
		o := outcome{Leaked: map[string]int{}}
		for what, fn := range map[string]func(){
			"MapFile": func() {
				m, err := s.MapFile(path, shmmap.MapShared)
				if err != nil {
					t.Fatal(err)
				}
				if err := m.Close(); err != nil {
					t.Fatal(err)
				}
			},
			"MapFile of an empty file": func() {
				m, err := s.MapFile(empty, shmmap.MapReadOnly)
				if err != nil {
					t.Fatal(err)
				}
				m.Close()
			},
			"MapFile failing": func() {
				if _, err := s.MapFile(t.TempDir(), shmmap.MapReadOnly); err == nil {
					t.Fatal("MapFile of a directory succeeded")
				}
			},
			"Memfd failing": func() {
				if _, err := s.Memfd("fail", -1); err == nil {
					t.Fatal("Memfd of size -1 succeeded")
				}
			},
		} {
			before := apiOpenFDs(t)
			for range n {
				fn()
			}
			o.Leaked[what] = apiOpenFDs(t) - before
		}
		return o
	})
	want := outcome{Leaked: map[string]int{"MapFile": 0, "MapFile of an empty file": 0, "MapFile failing": 0, "Memfd failing": 0}}
	for name, o := range got {
		if d := cmp.Diff(want, o); d != "" {
			t.Errorf("%s: descriptors left open (-want +got):\n%s", name, d)
		}
	}
}
