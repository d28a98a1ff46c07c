package shmmap_test

// Cross-process tests of the safe API (package shmmap, through shmmap.Using
// over every implementation built into the test binary) against C: the C
// side is testdata/fixture.c, a test fixture separate from the verbatim
// c-reference, driven one command line at a time so that every step is
// ordered by its answer (no sleeps). Every expected value comes from the C
// side of the same test. Everything a test makes is removed by the test's
// cleanups even if the C process crashes: the process is killed and reaped,
// System V segments live in a private IPC namespace and are removed
// explicitly too, POSIX shared memory objects are unlinked by the Go side,
// files live in t.TempDir, and the small tmpfs lives in a private mount
// namespace and is unmounted.

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/impls"
	"github.com/shmmap/shmmap/shmtest"
	"golang.org/x/sys/unix"
)

// fixtureTimeout bounds the wait for one answer of the C fixture, so a
// wedged fixture fails the test instead of hanging it.
const fixtureTimeout = 20 * time.Second

// cfixture drives testdata/fixture.c.
type cfixture struct {
	proc *shmtest.Process
	pid  int
	last string // the last command sent, for failure messages
}

// startFixture starts the C fixture with extra as its descriptors 3, 4, ...
// It starts from the calling goroutine's thread, so it shares that thread's
// IPC namespace. It is killed and reaped when the test ends, whatever
// happens.
func startFixture(t *testing.T, extra ...*os.File) *cfixture {
	t.Helper()
	cmd := exec.Command(shmtest.BuildC(t, "testdata/fixture.c"))
	cmd.ExtraFiles = extra
	proc := shmtest.Start(t, cmd)
	f := &cfixture{proc: proc, pid: proc.Pid()}
	t.Cleanup(func() {
		if t.Failed() && f.last != "" {
			t.Logf("the last command sent to the C fixture: %q", f.last)
		}
	})
	return f
}

// do sends one command and returns its answer without the "ok"; an "err
// ERRNO" answer, no answer, or the fixture's death fails the test.
func (f *cfixture) do(t *testing.T, format string, args ...any) string {
	t.Helper()
	cmd := fmt.Sprintf(format, args...)
	f.last = cmd
	f.proc.Send(t, cmd)
	line := f.proc.WaitLine(t, "", fixtureTimeout)
	if rest, found := strings.CutPrefix(line, "ok"); found {
		return strings.TrimPrefix(rest, " ")
	}
	var errno int
	if _, err := fmt.Sscanf(line, "err %d", &errno); err == nil {
		t.Fatalf("C fixture %q: %v", cmd, syscall.Errno(errno))
	}
	t.Fatalf("C fixture %q: unexpected answer %q", cmd, line)
	return ""
}

// quit has the fixture exit and waits until it has been reaped; it must
// exit with status 0.
func (f *cfixture) quit(t *testing.T) {
	t.Helper()
	f.last = "quit"
	f.proc.Send(t, "quit")
	if res := f.proc.Wait(t, fixtureTimeout); res.Status != 0 {
		t.Fatalf("C fixture: %+v", res)
	}
}

// scanAnswer parses an answer of space-separated values into ptrs.
func scanAnswer(t *testing.T, answer string, ptrs ...any) {
	t.Helper()
	if _, err := fmt.Sscan(answer, ptrs...); err != nil {
		t.Fatalf("parsing the C fixture's answer %q: %v", answer, err)
	}
}

// answerFields parses an answer of space-separated name=value pairs.
func answerFields(t *testing.T, answer string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, f := range strings.Fields(answer) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			t.Fatalf("parsing the C fixture's answer %q: %q is not name=value", answer, f)
		}
		m[k] = v
	}
	return m
}

// TestAPICompatFtok: Ftok gives C's ftok key for several files (a symbolic
// link and a device among them) and project ids (0x80 and above included),
// and a segment made at that key on one side is found at the same id by the
// other.
func TestAPICompatFtok(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for _, name := range []string{"one", "two", "three"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(name), 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	link := filepath.Join(dir, "link-to-one") // ftok follows it: one's key
	if err := os.Symlink(paths[0], link); err != nil {
		t.Fatal(err)
	}
	paths = append(paths, dir, link, os.DevNull)
	type ftokCase struct {
		path string
		proj int
	}
	var cases []ftokCase
	for _, p := range paths {
		for _, proj := range []int{1, 'A', 0x7f, 0x80, 0xa5, 0xff, 0x1ff} {
			cases = append(cases, ftokCase{p, proj})
		}
	}
	// seen is a segment as one side sees it.
	type seen struct {
		Key  int32
		ID   int
		Size int64
	}
	for _, impl := range impls.All() {
		sys := shmmap.Using(impl)
		t.Run(impl.Name+"/Go creates, C finds", func(t *testing.T) {
			shmtest.Isolate(t)
			fx := startFixture(t)
			made := map[shmmap.Key]*shmmap.Segment{}
			for i, c := range cases {
				key, err := sys.Ftok(c.path, c.proj)
				if err != nil {
					t.Fatal(err)
				}
				seg, ok := made[key] // two cases may share a key: the link, 0xff and 0x1ff
				if !ok {
					seg, err = sys.CreateSegment(key, int64(1000+i), 0o600)
					if err != nil {
						t.Fatalf("CreateSegment(Ftok(%s, %#x) = %v): %v", c.path, c.proj, key, err)
					}
					t.Cleanup(func() { seg.Remove() })
					made[key] = seg
				}
				var c0 seen
				scanAnswer(t, fx.do(t, "shmgetftok %s %d", c.path, c.proj), &c0.Key, &c0.ID, &c0.Size)
				g := seen{int32(key), seg.ID(), seg.Size()}
				if d := cmp.Diff(c0, g); d != "" {
					t.Errorf("ftok(%s, %#x): Go's segment is not the one C finds (-C +Go):\n%s", c.path, c.proj, d)
				}
			}
		})
		t.Run(impl.Name+"/C creates, Go finds", func(t *testing.T) {
			shmtest.Isolate(t)
			fx := startFixture(t)
			type cSeg struct {
				seen
				data []byte
			}
			made := map[int32]cSeg{}
			for i, c := range cases {
				var cKey int32
				scanAnswer(t, fx.do(t, "ftok %s %d", c.path, c.proj), &cKey)
				m, ok := made[cKey]
				if !ok {
					m.Key, m.Size = cKey, int64(1000+i)
					scanAnswer(t, fx.do(t, "shmcreate %d %d", cKey, m.Size), &m.ID)
					id := m.ID
					t.Cleanup(func() {
						if seg, err := sys.OpenSegmentID(id); err == nil {
							seg.Remove()
						}
					})
					m.data = fmt.Appendf(nil, "C wrote this at ftok(%s, %#x)\x00\xff", filepath.Base(c.path), c.proj)
					fx.do(t, "shmat %d", m.ID)
					fx.do(t, "write 0 %x", m.data)
					fx.do(t, "shmdt")
					made[cKey] = m
				}
				key, err := sys.Ftok(c.path, c.proj)
				if err != nil {
					t.Fatal(err)
				}
				seg, err := sys.OpenSegment(key)
				if err != nil {
					t.Errorf("OpenSegment(Ftok(%s, %#x) = %v), C's key %v: %v", c.path, c.proj, key, shmmap.Key(cKey), err)
					continue
				}
				if d := cmp.Diff(m.seen, seen{int32(seg.Key()), seg.ID(), seg.Size()}); d != "" {
					t.Errorf("ftok(%s, %#x): Go finds another segment than C made (-C +Go):\n%s", c.path, c.proj, d)
				}
				att, err := seg.Attach(shmmap.AttachReadOnly)
				if err != nil {
					t.Fatal(err)
				}
				got := make([]byte, len(m.data))
				_, err = att.ReadAt(got, 0)
				if derr := att.Detach(); derr != nil {
					t.Fatal(derr)
				}
				if err != nil || !bytes.Equal(got, m.data) {
					t.Errorf("ftok(%s, %#x): Go reads %q, %v; C wrote %q", c.path, c.proj, got, err, m.data)
				}
			}
		})
	}
}

// The layout of testdata/fixture.c's struct record under the natural
// alignment of the Linux ABIs (every one but i386, which aligns 8-byte
// members to 4 inside structs), in bytes. TestAPICompatRecord checks these
// against C's offsetof and sizeof, so the table cannot drift:
//
//	offset  size  field
//	     0     1  int8_t   a
//	     1     1  (padding)
//	     2     2  int16_t  b
//	     4     4  int32_t  c
//	     8     8  int64_t  d
//	    16     8  double   e
//	    24     4  float    f
//	    28    13  char     name[13]
//	    41     7  (padding)
//	    48     8  uint64_t g
//	    56        sizeof(struct record)
const (
	recordAOff    = 0
	recordBOff    = 2
	recordCOff    = 4
	recordDOff    = 8
	recordEOff    = 16
	recordFOff    = 24
	recordNameOff = 28
	recordNameLen = 13
	recordGOff    = 48
	recordSize    = 56
)

// cRecord is struct record's values in Go types.
type cRecord struct {
	A    int8
	B    int16
	C    int32
	D    int64
	E    float64
	F    float32
	Name [recordNameLen]byte
	G    uint64
}

// decodeRecord reads a struct record from its bytes, at the documented
// offsets and in the machine's byte order.
func decodeRecord(b []byte) cRecord {
	ne := binary.NativeEndian
	var r cRecord
	r.A = int8(b[recordAOff])
	r.B = int16(ne.Uint16(b[recordBOff:]))
	r.C = int32(ne.Uint32(b[recordCOff:]))
	r.D = int64(ne.Uint64(b[recordDOff:]))
	r.E = math.Float64frombits(ne.Uint64(b[recordEOff:]))
	r.F = math.Float32frombits(ne.Uint32(b[recordFOff:]))
	copy(r.Name[:], b[recordNameOff:])
	r.G = ne.Uint64(b[recordGOff:])
	return r
}

// encodeRecord is the bytes of a struct record holding r, its padding
// filled with 0x5a.
func encodeRecord(r cRecord) []byte {
	ne := binary.NativeEndian
	b := bytes.Repeat([]byte{0x5a}, recordSize)
	b[recordAOff] = byte(r.A)
	ne.PutUint16(b[recordBOff:], uint16(r.B))
	ne.PutUint32(b[recordCOff:], uint32(r.C))
	ne.PutUint64(b[recordDOff:], uint64(r.D))
	ne.PutUint64(b[recordEOff:], math.Float64bits(r.E))
	ne.PutUint32(b[recordFOff:], math.Float32bits(r.F))
	copy(b[recordNameOff:], r.Name[:])
	ne.PutUint64(b[recordGOff:], r.G)
	return b
}

// parseRecord parses the fixture's printing of a struct record.
func parseRecord(t *testing.T, answer string) cRecord {
	t.Helper()
	f := answerFields(t, answer)
	var firstErr error
	num := func(name string, bits int) int64 {
		v, err := strconv.ParseInt(f[name], 10, bits)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return v
	}
	flt := func(name string, bits int) float64 {
		v, err := strconv.ParseFloat(f[name], bits)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return v
	}
	r := cRecord{A: int8(num("a", 8)), B: int16(num("b", 16)), C: int32(num("c", 32)), D: num("d", 64),
		E: flt("e", 64), F: float32(flt("f", 32))}
	g, err := strconv.ParseUint(f["g"], 10, 64)
	if err != nil && firstErr == nil {
		firstErr = err
	}
	r.G = g
	name, err := hex.DecodeString(f["name"])
	if err == nil && len(name) != recordNameLen {
		err = fmt.Errorf("name is %d bytes, not %d", len(name), recordNameLen)
	}
	if err != nil && firstErr == nil {
		firstErr = err
	}
	copy(r.Name[:], name)
	if firstErr != nil {
		t.Fatalf("parsing the C fixture's record %q: %v", answer, firstErr)
	}
	return r
}

// TestAPICompatRecord: a struct of mixed field types written by C into a
// segment reads back field by field in Go at the documented offsets, and one
// written by Go the same way reads back in C.
func TestAPICompatRecord(t *testing.T) {
	if runtime.GOARCH == "386" {
		t.Skip("the documented layout is natural alignment as every other Linux ABI has it; i386 aligns int64_t, uint64_t and double to 4 inside structs")
	}
	ok := t.Run("layout", func(t *testing.T) {
		fx := startFixture(t)
		cLayout := answerFields(t, fx.do(t, "layout"))
		field := func(off, size int) string { return fmt.Sprintf("%d:%d", off, size) }
		documented := map[string]string{
			"size": strconv.Itoa(recordSize),
			"a":    field(recordAOff, 1),
			"b":    field(recordBOff, 2),
			"c":    field(recordCOff, 4),
			"d":    field(recordDOff, 8),
			"e":    field(recordEOff, 8),
			"f":    field(recordFOff, 4),
			"name": field(recordNameOff, recordNameLen),
			"g":    field(recordGOff, 8),
		}
		if d := cmp.Diff(cLayout, documented); d != "" {
			t.Errorf("the documented offset:size of struct record's fields differ from C's offsetof:sizeof (-C +documented):\n%s", d)
		}
	})
	if !ok {
		return
	}
	for _, impl := range impls.All() {
		sys := shmmap.Using(impl)
		t.Run(impl.Name, func(t *testing.T) {
			shmtest.Isolate(t)
			seg, err := sys.CreateSegment(shmmap.IPCPrivate, 4096, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { seg.Remove() })
			att, err := seg.Attach(shmmap.AttachReadWrite)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { att.Detach() })
			fx := startFixture(t)
			fx.do(t, "shmat %d", seg.ID())

			fromC := parseRecord(t, fx.do(t, "record-write"))
			b := make([]byte, recordSize)
			if _, err := att.ReadAt(b, 0); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(fromC, decodeRecord(b)); d != "" {
				t.Errorf("Go decodes C's struct record differently (-C printed +Go decoded):\n%s", d)
			}

			fromGo := cRecord{A: math.MinInt8, B: math.MaxInt16, C: math.MinInt32, D: math.MaxInt64,
				E: -math.SmallestNonzeroFloat64, F: math.MaxFloat32, G: math.MaxUint64}
			copy(fromGo.Name[:], "Go wrote\x00\xff\x80ok")
			if _, err := att.WriteAt(encodeRecord(fromGo), 0); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(fromGo, parseRecord(t, fx.do(t, "record-read"))); d != "" {
				t.Errorf("C reads Go's struct record differently (-Go wrote +C printed):\n%s", d)
			}
		})
	}
}

// statView is IPC_STAT as both sides can print it: times in seconds since
// the epoch, 0 for never.
type statView struct {
	Key                  int32
	ID                   int
	Size                 int64
	Mode                 fs.FileMode
	Removed, Locked      bool
	UID, GID, CUID, CGID int
	CPID, LPID, Nattch   int
	ATime, DTime, CTime  int64
}

func viewOfInfo(in *shmmap.SegmentInfo) statView {
	sec := func(t time.Time) int64 {
		if t.IsZero() {
			return 0
		}
		return t.Unix()
	}
	return statView{
		Key: int32(in.Key), ID: in.ID, Size: in.Size, Mode: in.Mode, Removed: in.Removed, Locked: in.Locked,
		UID: in.UID, GID: in.GID, CUID: in.CUID, CGID: in.CGID, CPID: in.CPID, LPID: in.LPID, Nattch: in.Nattch,
		ATime: sec(in.AttachTime), DTime: sec(in.DetachTime), CTime: sec(in.ChangeTime),
	}
}

// parseStat parses the fixture's shmstat answer.
func parseStat(t *testing.T, answer string) statView {
	t.Helper()
	f := answerFields(t, answer)
	n := map[string]int64{}
	for _, k := range []string{"key", "id", "size", "mode", "uid", "gid", "cuid", "cgid", "cpid", "lpid", "nattch", "atime", "dtime", "ctime"} {
		v, err := strconv.ParseInt(f[k], 0, 64)
		if err != nil {
			t.Fatalf("parsing the C fixture's IPC_STAT %q: %s: %v", answer, k, err)
		}
		n[k] = v
	}
	return statView{
		Key: int32(n["key"]), ID: int(n["id"]), Size: n["size"],
		Mode:    fs.FileMode(n["mode"] & 0o777),
		Removed: n["mode"]&0o1000 != 0, // SHM_DEST
		Locked:  n["mode"]&0o2000 != 0, // SHM_LOCKED
		UID:     int(n["uid"]), GID: int(n["gid"]), CUID: int(n["cuid"]), CGID: int(n["cgid"]),
		CPID: int(n["cpid"]), LPID: int(n["lpid"]), Nattch: int(n["nattch"]),
		ATime: n["atime"], DTime: n["dtime"], CTime: n["ctime"],
	}
}

// TestAPICompatStat: Segment.Stat shows what C's shmctl(IPC_STAT) shows,
// field for field, while Go and C are both attached, after C detaches, and
// after Go removes the segment it is still attached to.
func TestAPICompatStat(t *testing.T) {
	for _, impl := range impls.All() {
		sys := shmmap.Using(impl)
		t.Run(impl.Name, func(t *testing.T) {
			shmtest.Isolate(t)
			seg, err := sys.CreateSegment(shmKey, 5000, 0o640)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { seg.Remove() })
			att, err := seg.Attach(shmmap.AttachReadWrite)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { att.Detach() })
			fx := startFixture(t)
			fx.do(t, "shmat %d", seg.ID())

			compare := func(phase string) statView {
				t.Helper()
				info, err := seg.Stat()
				if err != nil {
					t.Fatalf("%s: %v", phase, err)
				}
				c := parseStat(t, fx.do(t, "shmstat %d", seg.ID()))
				if d := cmp.Diff(c, viewOfInfo(info)); d != "" {
					t.Errorf("%s: Segment.Stat differs from C's IPC_STAT (-C +Go):\n%s", phase, d)
				}
				return c
			}
			// The scenario itself, as C sees it.
			c := compare("both attached")
			if c.Nattch != 2 || c.CPID != os.Getpid() || c.LPID != fx.pid || c.ATime == 0 || c.DTime != 0 || c.Removed {
				t.Errorf("both attached: C's IPC_STAT is not the scenario's (Go pid %d created, C pid %d attached last): %+v", os.Getpid(), fx.pid, c)
			}
			fx.do(t, "shmdt")
			c = compare("C detached")
			if c.Nattch != 1 || c.LPID != fx.pid || c.DTime == 0 || c.Removed {
				t.Errorf("C detached: C's IPC_STAT is not the scenario's (C pid %d detached last): %+v", fx.pid, c)
			}
			if err := seg.Remove(); err != nil {
				t.Fatal(err)
			}
			c = compare("removed while Go is attached")
			if c.Nattch != 1 || !c.Removed || c.Key != int32(shmmap.IPCPrivate) {
				t.Errorf("removed: C's IPC_STAT is not the scenario's: %+v", c)
			}
		})
	}
}

// expectFault checks that err matches ErrFault and that the faulting address
// is inside mem at or after offset from.
func expectFault(t *testing.T, what string, err error, mem []byte, from int) {
	t.Helper()
	var fe *shmmap.FaultError
	if !errors.Is(err, shmmap.ErrFault) || !errors.As(err, &fe) {
		t.Errorf("%s: got error %v, want one matching ErrFault", what, err)
		return
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(mem)))
	if fe.Addr < base+uintptr(from) || fe.Addr >= base+uintptr(len(mem)) {
		t.Errorf("%s: fault at %#x, outside [%#x, %#x)", what, fe.Addr, base+uintptr(from), base+uintptr(len(mem)))
	}
}

// TestAPICompatFault: memory that cannot be accessed gives errors matching
// ErrFault, not a crash: a mapped file truncated by C, and a sparse file on
// a full tmpfs.
func TestAPICompatFault(t *testing.T) {
	page := os.Getpagesize()
	for _, impl := range impls.All() {
		sys := shmmap.Using(impl)
		t.Run(impl.Name+"/truncated by C", func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "truncated")
			if err := os.WriteFile(path, bytes.Repeat([]byte("x"), 3*page), 0o600); err != nil {
				t.Fatal(err)
			}
			m, err := sys.MapFile(path, shmmap.MapShared)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { m.Close() })
			mem := m.Bytes()
			fx := startFixture(t)
			p := make([]byte, 16)
			if _, err := m.ReadAt(p, int64(2*page)); err != nil {
				t.Fatalf("before truncation: %v", err)
			}

			fx.do(t, "truncate %s %d", path, page)
			if _, err := m.ReadAt(p, 10); err != nil || string(p) != strings.Repeat("x", len(p)) {
				t.Errorf("ReadAt in the page that is left: %q, %v", p, err)
			}
			_, err = m.ReadAt(p, int64(2*page))
			expectFault(t, "ReadAt past the new end", err, mem, page)
			_, err = m.WriteAt(p, int64(page)+1)
			expectFault(t, "WriteAt past the new end", err, mem, page)

			fx.do(t, "truncate %s 0", path)
			_, err = m.ReadAt(p, 0)
			expectFault(t, "ReadAt of the emptied file", err, mem, 0)
			_, err = m.WriteAt(p, 0)
			expectFault(t, "WriteAt of the emptied file", err, mem, 0)

			if m.Len() != 3*page {
				t.Errorf("Len after the faults: %d, want %d", m.Len(), 3*page)
			}
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := m.ReadAt(p, 0); !errors.Is(err, shmmap.ErrClosed) {
				t.Errorf("ReadAt after Close: %v, want ErrClosed", err)
			}
		})
		t.Run(impl.Name+"/tmpfs full", func(t *testing.T) {
			dir := mountTinyTmpfs(t, "64k")
			f, err := os.OpenFile(filepath.Join(dir, "sparse"), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			if err := f.Truncate(1 << 20); err != nil { // 16 times the tmpfs
				t.Fatal(err)
			}
			m, err := sys.Map(f, 0, 0, shmmap.MapShared)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { m.Close() })
			if _, err := m.WriteAt(bytes.Repeat([]byte{1}, page), 0); err != nil {
				t.Fatalf("a page that fits: %v", err)
			}
			_, err = m.WriteAt(bytes.Repeat([]byte{2}, m.Len()), 0)
			expectFault(t, "WriteAt past the space of the tmpfs", err, m.Bytes(), 0)
		})
	}
}

// mountTinyTmpfs mounts a tmpfs of the given size in a new directory and
// returns it. The mount is made in a private mount namespace entered by the
// test goroutine's thread only (which stays locked to it and dies with it),
// so nothing else sees it and it cannot outlive the test; it is also
// unmounted when the test ends. Without the privilege the test is skipped.
func mountTinyTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tmpfs") // removed after the unmount below
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	runtime.LockOSThread() // never unlocked: the thread ends with the test
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		t.Skipf("cannot make a private mount namespace for a %s tmpfs (unshare CLONE_NEWNS: %v); run as root", size, err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		t.Skipf("cannot make the mounts private for a %s tmpfs: %v", size, err)
	}
	if err := unix.Mount("shmmap-test", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size="+size); err != nil {
		t.Skipf("cannot mount a %s tmpfs on %s: %v", size, dir, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmount the tmpfs on %s: %v", dir, err)
			unix.Unmount(dir, unix.MNT_DETACH)
		}
	})
	return dir
}

// TestAPICompatMemfd: a memfd made with Memfd and passed to C as its
// descriptor 3 is the same memory on both sides; and a memfd C made, opened
// by Go through /proc/PID/fd, is too, even after C exits.
func TestAPICompatMemfd(t *testing.T) {
	const size = 10000
	for _, impl := range impls.All() {
		sys := shmmap.Using(impl)
		t.Run(impl.Name+"/Go to C", func(t *testing.T) {
			name := "shmmap-api-" + impl.Name
			f, err := sys.Memfd(name, size)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			m, err := sys.Map(f, 0, 0, shmmap.MapShared)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { m.Close() })
			if m.Len() != size {
				t.Fatalf("Len %d, want %d", m.Len(), size)
			}
			fromGo := []byte("Go wrote this into its memfd \x00\xff")
			if _, err := m.WriteAt(fromGo, 5000); err != nil {
				t.Fatal(err)
			}
			fx := startFixture(t, f)
			var cSize int
			var link string
			ans := fx.do(t, "mapfd 3")
			scanAnswer(t, ans, &cSize)
			_, link, _ = strings.Cut(ans, " ")
			if cSize != m.Len() || !strings.HasPrefix(link, f.Name()) {
				t.Errorf("C's descriptor 3 is %q of %d bytes; Go's memfd is %q of %d", link, cSize, f.Name(), m.Len())
			}
			if got := fx.do(t, "read 5000 %d", len(fromGo)); got != hex.EncodeToString(fromGo) {
				t.Errorf("C reads %s, Go wrote %x", got, fromGo)
			}
			fromC := []byte("C wrote this \x01\xfe")
			fx.do(t, "write %d %x", size-len(fromC), fromC)
			got := make([]byte, len(fromC))
			if _, err := m.ReadAt(got, int64(size-len(fromC))); err != nil || !bytes.Equal(got, fromC) {
				t.Errorf("Go reads %q, %v; C wrote %q", got, err, fromC)
			}
		})
		t.Run(impl.Name+"/C to Go", func(t *testing.T) {
			fx := startFixture(t)
			path := fx.do(t, "memfd shmmap-api-c %d", size)
			if want := fmt.Sprintf("/proc/%d/fd/", fx.pid); !strings.HasPrefix(path, want) {
				t.Fatalf("C's memfd is at %s, not under %s", path, want)
			}
			fromC := []byte("C wrote this into its memfd \x01\xfe")
			fx.do(t, "write 0 %x", fromC)
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			m, err := sys.Map(f, 0, 0, shmmap.MapShared)
			f.Close() // the mapping keeps the memory
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { m.Close() })
			if m.Len() != size {
				t.Errorf("Len %d, C made it %d bytes", m.Len(), size)
			}
			got := make([]byte, len(fromC))
			if _, err := m.ReadAt(got, 0); err != nil || !bytes.Equal(got, fromC) {
				t.Errorf("Go reads %q, %v; C wrote %q", got, err, fromC)
			}
			fromGo := []byte("Go wrote this \x00\xff")
			if _, err := m.WriteAt(fromGo, 7000); err != nil {
				t.Fatal(err)
			}
			if got := fx.do(t, "read 7000 %d", len(fromGo)); got != hex.EncodeToString(fromGo) {
				t.Errorf("C reads %s, Go wrote %x", got, fromGo)
			}
			fx.quit(t)
			if _, err := m.ReadAt(got, 0); err != nil || !bytes.Equal(got, fromC) {
				t.Errorf("after C exited, Go reads %q, %v; C wrote %q", got, err, fromC)
			}
		})
	}
}

// apiShmName is a POSIX shared memory object name of this test process.
func apiShmName(impl, what string) string {
	return fmt.Sprintf("shmmap-api-%d-%s-%s", os.Getpid(), impl, what)
}

// unlinkAtEnd unlinks the POSIX shared memory object name when the test
// ends, whoever made it and whatever happened.
func unlinkAtEnd(t *testing.T, name string) {
	t.Cleanup(func() {
		if err := shmmap.ShmUnlink(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("ShmUnlink(%q): %v", name, err)
		}
	})
}

// TestAPICompatShm: a POSIX shared memory object made by ShmOpen is the one
// C's shm_open opens, and the reverse; each side sees the other's writes.
// The two sides spell the name with and without glibc's optional leading
// slash.
func TestAPICompatShm(t *testing.T) {
	const size = 8192
	for _, impl := range impls.All() {
		sys := shmmap.Using(impl)
		t.Run(impl.Name+"/Go creates, C opens", func(t *testing.T) {
			name := apiShmName(impl.Name, "go")
			unlinkAtEnd(t, name)
			f, err := sys.ShmOpen(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			if _, err := sys.ShmOpen(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); !errors.Is(err, fs.ErrExist) {
				t.Errorf("ShmOpen create-exclusive again: %v, want an error matching fs.ErrExist", err)
			}
			if err := f.Truncate(size); err != nil {
				t.Fatal(err)
			}
			m, err := sys.Map(f, 0, 0, shmmap.MapShared)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { m.Close() })
			fromGo := []byte("Go wrote this into /dev/shm \x00\xff")
			if _, err := m.WriteAt(fromGo, 100); err != nil {
				t.Fatal(err)
			}
			fx := startFixture(t)
			var cSize int
			scanAnswer(t, fx.do(t, "shmopen /%s open", name), &cSize)
			if cSize != m.Len() {
				t.Errorf("C's object is %d bytes, Go's mapping %d", cSize, m.Len())
			}
			if got := fx.do(t, "read 100 %d", len(fromGo)); got != hex.EncodeToString(fromGo) {
				t.Errorf("C reads %s, Go wrote %x", got, fromGo)
			}
			fromC := []byte("C wrote this \x01\xfe")
			fx.do(t, "write 4000 %x", fromC)
			got := make([]byte, len(fromC))
			if _, err := m.ReadAt(got, 4000); err != nil || !bytes.Equal(got, fromC) {
				t.Errorf("Go reads %q, %v; C wrote %q", got, err, fromC)
			}
		})
		t.Run(impl.Name+"/C creates, Go opens", func(t *testing.T) {
			name := apiShmName(impl.Name, "c")
			unlinkAtEnd(t, name) // before C makes it
			fx := startFixture(t)
			var cSize int
			scanAnswer(t, fx.do(t, "shmopen /%s create %d", name, size), &cSize)
			fromC := []byte("C wrote this into /dev/shm \x01\xfe")
			fx.do(t, "write 0 %x", fromC)
			f, err := sys.ShmOpen(name, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			m, err := sys.Map(f, 0, 0, shmmap.MapShared)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { m.Close() })
			if m.Len() != cSize {
				t.Errorf("Go maps %d bytes, C's object is %d", m.Len(), cSize)
			}
			got := make([]byte, len(fromC))
			if _, err := m.ReadAt(got, 0); err != nil || !bytes.Equal(got, fromC) {
				t.Errorf("Go reads %q, %v; C wrote %q", got, err, fromC)
			}
			fromGo := []byte("Go wrote this \x00\xff")
			if _, err := m.WriteAt(fromGo, size-int64(len(fromGo))); err != nil {
				t.Fatal(err)
			}
			if got := fx.do(t, "read %d %d", size-len(fromGo), len(fromGo)); got != hex.EncodeToString(fromGo) {
				t.Errorf("C reads %s, Go wrote %x", got, fromGo)
			}
		})
	}
}
