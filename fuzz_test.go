package shmmap_test

// FuzzOps drives random sequences of operations of the safe API, decoded from
// the fuzz input, against a shadow model of what the kernel must do:
// segments created, opened, attached, read, written, detached and removed on
// a tiny set of keys; files, POSIX shared memory objects and memfds mapped,
// truncated under their mappings (so that ReadAt and WriteAt fault), synced,
// advised, locked and closed; each call through one of the implementations
// (purego, and cshim with cgo) chosen by the input.
//
// Every input runs on a goroutine of its own, locked to its thread, which
// unshares CLONE_NEWIPC (as shmtest.Isolate does for a test) and
// is never unlocked: the thread, and with it the namespace and any segment
// left in it, ends with the input. At the end of each input everything is
// released, and the input fails if anything it made is left: a segment in
// /proc/sysvipc/shm, a /dev/shm object or a memfd of this process's prefix,
// a temporary file, a mapping in /proc/self/maps, a descriptor.
//
// Longer fuzzing than the seed corpus run:
//
//	go test -run '^$' -fuzz FuzzOps -fuzztime 3m .

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/impls"
	"github.com/shmmap/shmmap/procmaps"
	"github.com/shmmap/shmmap/shmtest"
	"golang.org/x/sys/unix"
)

// The operations; each is followed in the input by the argument bytes its
// method reads (see the method).
const (
	fzCreate       = iota // sys key size perm
	fzOpen                // sys key
	fzOpenOrCreate        // sys key size perm
	fzOpenID              // sys which idx
	fzAttach              // handle mode
	fzDetach              // attachment
	fzRemove              // handle
	fzStat                // handle
	fzAttRead             // attachment off len
	fzAttWrite            // attachment off len seed
	fzTempFile            // size seed
	fzShmOpen             // sys variant file
	fzShmUnlink           // sys variant file
	fzMemfd               // sys variant size
	fzMap                 // sys file how off len mode
	fzMapFile             // sys file mode
	fzMapRead             // mapping off len
	fzMapWrite            // mapping off len seed
	fzMapCall             // mapping which advice
	fzMapClose            // mapping
	fzTruncate            // file size
	fzFileIO              // file write off len seed
	fzFileClose           // file which
	fzFtok                // file variant proj
	fzList                //
	fzNumOps
)

// fzMaxOps bounds the operations of one input, to keep each input fast.
const fzMaxOps = 128

var fzPage = os.Getpagesize()

// fzWide is 1<<32 on a 64-bit platform (0 elsewhere, where it is unused): an
// int whose low 32 bits are those of a smaller value, to check that values C
// takes as an int are not silently truncated.
var fzWide = func() int {
	shift := 32 // a variable, so that 32-bit platforms compile it
	return 1 << shift
}()

const fzIs64 = math.MaxInt > math.MaxInt32

// The tables the input's bytes index (modulo their length).
var (
	fzKeys     = []shmmap.Key{shmmap.IPCPrivate, 0x5a01, 0x5a02, -0x5a03}
	fzSegSizes = []int64{int64(fzPage), 1, 100, int64(fzPage - 1), int64(fzPage + 1), int64(2*fzPage + 17), int64(3 * fzPage), 0, -1, 7}
	fzPerms    = []fs.FileMode{0o600, 0o400, 0, 0o777, 0o640 | fs.ModeSetuid | fs.ModeDir}
	fzAttModes = []shmmap.AttachMode{shmmap.AttachReadWrite, shmmap.AttachReadOnly, shmmap.AttachReadWrite, shmmap.AttachReadOnly, 2, -1}
	fzTmpSizes = []int{3 * fzPage, 0, 1, 100, fzPage - 1, fzPage, fzPage + 1, 2*fzPage + 5}
	fzMapOffs  = []int64{0, 1, int64(fzPage - 1), int64(fzPage), int64(fzPage + 7), int64(2 * fzPage), int64(3*fzPage + 1), 100, -1, 1 << 40, math.MaxInt64}
	fzMapLens  = []int{0, fzPage, 1, fzPage - 1, fzPage + 1, 2*fzPage + 3, 3 * fzPage, 100, -1, 0}
	fzMapModes = []shmmap.MapMode{shmmap.MapShared, shmmap.MapPrivate, shmmap.MapReadOnly, shmmap.MapShared, shmmap.MapPrivate, 3, -1}
	fzTrunc    = []int64{int64(fzPage), 0, 1, int64(fzPage - 1), int64(fzPage + 1), int64(2 * fzPage), int64(2*fzPage + 9), int64(3 * fzPage), int64(4*fzPage + 3), 100}
	fzIOOffs   = []int64{0, 1, int64(fzPage - 1), int64(fzPage), int64(2*fzPage + 5), 100, int64(4 * fzPage)}
	fzIOLens   = []int{16, 1, fzPage, fzPage + 1, 200, 0}
	fzMemSizes = []int64{int64(fzPage), 0, 1, int64(3*fzPage - 5), int64(2*fzPage + 1), -1}
	fzAdvices  = []int{unix.MADV_NORMAL, unix.MADV_RANDOM, unix.MADV_SEQUENTIAL, unix.MADV_WILLNEED,
		unix.MADV_DONTNEED, unix.MADV_REMOVE, unix.MADV_DONTFORK, unix.MADV_DOFORK, unix.MADV_DONTDUMP,
		unix.MADV_DODUMP, unix.MADV_COLD, unix.MADV_PAGEOUT, 999, -1, fzWide | unix.MADV_DONTNEED}
)

// fzAdviceValid reports whether madvise accepts advice (for the values of
// fzAdvices).
func fzAdviceValid(advice int) bool { return advice >= 0 && advice <= unix.MADV_PAGEOUT }

// fzFileData is the size of the model of a file's contents: more than any
// size an input can give a file.
var fzFileData = 8 * fzPage

// fzEnv is what the inputs of one fuzzing process share.
type fzEnv struct {
	dir     string // the temporary files of every input; each removes its own
	prefix  string // of every /dev/shm and memfd name this process makes
	systems []*shmmap.System
	seq     atomic.Int64
}

func (e *fzEnv) unique() string { return fmt.Sprintf("%s%d", e.prefix, e.seq.Add(1)) }

func FuzzOps(f *testing.F) {
	// Skips where namespaces are not permitted. It also moves this
	// goroutine's thread, which ends with FuzzOps, into a namespace of its
	// own; the inputs run on other goroutines and unshare for themselves.
	shmtest.Isolate(f)
	env := &fzEnv{dir: f.TempDir(), prefix: fmt.Sprintf("shmmap-fuzz-%d-", os.Getpid())}
	for _, impl := range impls.All() {
		env.systems = append(env.systems, shmmap.Using(impl))
	}
	for _, seed := range fzSeeds {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var problems []string
		done := make(chan struct{})
		go func() {
			defer close(done)
			// Never unlocked: the thread ends with this goroutine, and
			// the IPC namespace with it.
			runtime.LockOSThread()
			problems = env.run(in)
		}()
		<-done
		if len(problems) > 0 {
			t.Fatal(strings.Join(problems, "\n"))
		}
	})
}

// fzFatal is the panic value of fzState.fatalf.
type fzFatal string

// fzState is one input's run: the input, and the model of everything it
// made.
type fzState struct {
	*fzEnv
	in    []byte
	pos   int
	trace []string

	segs    []*fzSeg
	byKey   map[shmmap.Key]*fzSeg // segments findable by key
	handles []*fzHandle
	atts    []*fzAtt
	files   []*fzFile
	maps    []*fzMapping
	ranges  [][2]uintptr // every attachment, for the leak check
}

// fzSeg models a System V segment.
type fzSeg struct {
	key       shmmap.Key
	id        int
	size      int64
	perm      fs.FileMode
	removed   bool // IPC_RMID done
	destroyed bool // removed and no longer attached: gone
	nattch    int
	data      []byte
}

// fzHandle is a *Segment and the segment it refers to.
type fzHandle struct {
	seg *shmmap.Segment
	m   *fzSeg
}

// fzAtt is an attachment.
type fzAtt struct {
	a        *shmmap.Attachment
	h        *fzHandle
	ro       bool
	detached bool
	base     uintptr
}

// fzFile models a file, POSIX shared memory object or memfd: its size and
// its page cache (the bytes a shared mapping sees, up to the end of the
// last page), with the bytes whose value the model cannot know.
type fzFile struct {
	kind   string // "file", "shm", "memfd"
	path   string // f.Name(): the path, /dev/shm/NAME or /memfd:NAME
	shm    string // the object's name, for kind shm
	f      *os.File
	closed bool // f is closed
	linked bool // path names it
	size   int64
	data   []byte
	known  []bool
	maps   []*fzMapping
}

// eof returns the end of the file's last page: accesses at or after it
// fault.
func (f *fzFile) eof() int64 {
	p := int64(fzPage)
	return (f.size + p - 1) / p * p
}

// resize models ftruncate.
func (f *fzFile) resize(n int64) {
	if n < f.size {
		// The kernel zeroes the rest of the new last page and drops the
		// pages after it, private copies of mappings included.
		for x := n; x < int64(len(f.data)); x++ {
			f.data[x], f.known[x] = 0, true
		}
		p := int64(fzPage)
		keep := (n + p - 1) / p
		for _, mm := range f.maps {
			for idx := range mm.priv {
				if idx >= keep {
					delete(mm.priv, idx)
				}
			}
		}
	}
	// Growing keeps the tail of the old last page as it is: zero, or
	// unknown where a shared mapping wrote past the end.
	f.size = n
}

// fzMapping models a mapping.
type fzMapping struct {
	m      *shmmap.Mapping
	f      *fzFile
	name   string // the path in its errors
	off    int64  // the file offset of Bytes()[0]
	length int
	mode   shmmap.MapMode
	empty  bool
	closed bool
	base   uintptr
	priv   map[int64]*fzPrivPage // MapPrivate: the pages copied on write, by file page index
}

type fzPrivPage struct {
	data  []byte
	known []bool
}

// page returns the private copy of file page idx, making it: a copy of the
// file's page, or a page of unknown bytes if blank.
func (mm *fzMapping) page(idx int64, blank bool) *fzPrivPage {
	if pg := mm.priv[idx]; pg != nil {
		return pg
	}
	pg := &fzPrivPage{data: make([]byte, fzPage), known: make([]bool, fzPage)}
	if !blank {
		base := idx * int64(fzPage)
		copy(pg.data, mm.f.data[base:])
		copy(pg.known, mm.f.known[base:])
	}
	mm.priv[idx] = pg
	return pg
}

// run runs one input in a fresh IPC namespace; the calling goroutine is
// locked to its thread and never unlocked.
func (e *fzEnv) run(in []byte) (problems []string) {
	if err := unix.Unshare(unix.CLONE_NEWIPC); err != nil {
		return []string{fmt.Sprintf("unshare(CLONE_NEWIPC): %v", err)}
	}
	s := &fzState{fzEnv: e, in: in, byKey: map[shmmap.Key]*fzSeg{}}
	defer func() {
		if v := recover(); v != nil {
			if msg, ok := v.(fzFatal); ok {
				problems = append(problems, string(msg))
			} else {
				problems = append(problems, fmt.Sprintf("panic: %v\n%s", v, debug.Stack()))
			}
		}
		problems = append(problems, s.cleanup()...)
		if len(problems) > 0 {
			problems = append(problems, "operations:\n\t"+strings.Join(s.trace, "\n\t"))
		}
	}()
	if segs, err := shmmap.ListSegments(); err != nil || len(segs) != 0 {
		s.fatalf("a new IPC namespace: ListSegments = %v, %v; want no segments", segs, err)
	}
	for n := 0; n < fzMaxOps && s.pos < len(s.in); n++ {
		s.step()
	}
	return nil
}

func (s *fzState) fatalf(format string, args ...any) {
	panic(fzFatal(fmt.Sprintf(format, args...)))
}

func (s *fzState) tracef(format string, args ...any) {
	s.trace = append(s.trace, fmt.Sprintf(format, args...))
}

// next returns the next byte of the input, 0 past its end.
func (s *fzState) next() byte {
	s.pos++
	if s.pos > len(s.in) {
		return 0
	}
	return s.in[s.pos-1]
}

func (s *fzState) pick(n int) int { return int(s.next()) % n }

func fzPick[T any](s *fzState, table []T) T { return table[s.pick(len(table))] }

func (s *fzState) system() (*shmmap.System, string) {
	sys := fzPick(s, s.systems)
	return sys, sys.Impl().Name
}

// The objects an operation acts on; nil if there is none yet.
func (s *fzState) handle() *fzHandle   { return fzItem(s, s.handles) }
func (s *fzState) att() *fzAtt         { return fzItem(s, s.atts) }
func (s *fzState) file() *fzFile       { return fzItem(s, s.files) }
func (s *fzState) mapping() *fzMapping { return fzItem(s, s.maps) }

func fzItem[T any](s *fzState, list []*T) *T {
	b := int(s.next())
	if len(list) == 0 {
		return nil
	}
	return list[b%len(list)]
}

func (s *fzState) step() {
	switch s.next() % fzNumOps {
	case fzCreate:
		s.opCreate()
	case fzOpen:
		s.opOpen()
	case fzOpenOrCreate:
		s.opOpenOrCreate()
	case fzOpenID:
		s.opOpenID()
	case fzAttach:
		s.opAttach()
	case fzDetach:
		s.opDetach()
	case fzRemove:
		s.opRemove()
	case fzStat:
		s.opStat()
	case fzAttRead:
		s.opAttIO(false)
	case fzAttWrite:
		s.opAttIO(true)
	case fzTempFile:
		s.opTempFile()
	case fzShmOpen:
		s.opShmOpen()
	case fzShmUnlink:
		s.opShmUnlink()
	case fzMemfd:
		s.opMemfd()
	case fzMap:
		s.opMap()
	case fzMapFile:
		s.opMapFile()
	case fzMapRead:
		s.opMapIO(false)
	case fzMapWrite:
		s.opMapIO(true)
	case fzMapCall:
		s.opMapCall()
	case fzMapClose:
		s.opMapClose()
	case fzTruncate:
		s.opTruncate()
	case fzFileIO:
		s.opFileIO()
	case fzFileClose:
		s.opFileClose()
	case fzFtok:
		s.opFtok()
	case fzList:
		s.opList()
	}
}

// Checking errors.

func (s *fzState) noErr(what string, err error) {
	if err != nil {
		s.fatalf("%s: unexpected error %v", what, err)
	}
}

// segErr checks that err is a *SegmentError for op, key and id wrapping
// target.
func (s *fzState) segErr(what string, err error, op string, key shmmap.Key, id int, target error) {
	var se *shmmap.SegmentError
	if !errors.As(err, &se) || se.Op != op || se.Key != key || se.ID != id || !errors.Is(err, target) {
		s.fatalf("%s: error %v (%T), want a *SegmentError{Op: %q, Key: %v, ID: %d} matching %v", what, err, err, op, key, id, target)
	}
}

// pathErr checks that err is an *fs.PathError for op and path wrapping
// target.
func (s *fzState) pathErr(what string, err error, op, path string, target error) {
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Op != op || pe.Path != path || !errors.Is(err, target) {
		s.fatalf("%s: error %v (%T), want an *fs.PathError{Op: %q, Path: %q} matching %v", what, err, err, op, path, target)
	}
}

// Segments.

func (s *fzState) opCreate() {
	sys, impl := s.system()
	key, size, perm := fzPick(s, fzKeys), fzPick(s, fzSegSizes), fzPick(s, fzPerms)
	s.tracef("CreateSegment[%s](%v, %d, %v)", impl, key, size, perm)
	seg, err := sys.CreateSegment(key, size, perm)
	ex := s.byKey[key]
	what := s.trace[len(s.trace)-1]
	switch {
	case size < 0, size == 0 && ex == nil:
		s.segErr(what, err, "shmget", key, -1, unix.EINVAL)
	case ex != nil:
		s.segErr(what, err, "shmget", key, -1, fs.ErrExist)
	default:
		s.noErr(what, err)
		s.newSegment(what, seg, key, size, perm)
	}
}

func (s *fzState) newSegment(what string, seg *shmmap.Segment, key shmmap.Key, size int64, perm fs.FileMode) {
	if seg.Key() != key || seg.Size() != size {
		s.fatalf("%s: a segment with key %v and size %d, want %v and %d", what, seg.Key(), seg.Size(), key, size)
	}
	for _, m := range s.segs {
		if !m.destroyed && m.id == seg.ID() {
			s.fatalf("%s: new segment has the id %d of a segment that exists", what, seg.ID())
		}
	}
	m := &fzSeg{key: key, id: seg.ID(), size: size, perm: perm.Perm(), data: make([]byte, size)}
	s.segs = append(s.segs, m)
	if key != shmmap.IPCPrivate {
		s.byKey[key] = m
	}
	s.handles = append(s.handles, &fzHandle{seg: seg, m: m})
	s.tracef("\t= id %d", m.id)
}

func (s *fzState) sameSegment(what string, seg *shmmap.Segment, m *fzSeg) {
	key := m.key
	if m.removed {
		key = shmmap.IPCPrivate
	}
	if seg.ID() != m.id || seg.Key() != key || seg.Size() != m.size {
		s.fatalf("%s: segment id %d key %v size %d, want id %d key %v size %d", what, seg.ID(), seg.Key(), seg.Size(), m.id, key, m.size)
	}
	s.handles = append(s.handles, &fzHandle{seg: seg, m: m})
}

func (s *fzState) opOpen() {
	sys, impl := s.system()
	key := fzPick(s, fzKeys)
	s.tracef("OpenSegment[%s](%v)", impl, key)
	what := s.trace[len(s.trace)-1]
	seg, err := sys.OpenSegment(key)
	ex := s.byKey[key]
	if ex == nil {
		s.segErr(what, err, "shmget", key, -1, fs.ErrNotExist)
		return
	}
	s.noErr(what, err)
	s.sameSegment(what, seg, ex)
}

func (s *fzState) opOpenOrCreate() {
	sys, impl := s.system()
	key, size, perm := fzPick(s, fzKeys), fzPick(s, fzSegSizes), fzPick(s, fzPerms)
	s.tracef("OpenOrCreateSegment[%s](%v, %d, %v)", impl, key, size, perm)
	what := s.trace[len(s.trace)-1]
	seg, created, err := sys.OpenOrCreateSegment(key, size, perm)
	ex := s.byKey[key]
	switch {
	case size < 0, ex == nil && size == 0, ex != nil && size > ex.size:
		s.segErr(what, err, "shmget", key, -1, unix.EINVAL)
	case ex == nil:
		s.noErr(what, err)
		if !created {
			s.fatalf("%s: created = false for a new segment", what)
		}
		s.newSegment(what, seg, key, size, perm)
	default:
		s.noErr(what, err)
		if created {
			s.fatalf("%s: created = true for the existing segment id %d", what, ex.id)
		}
		s.sameSegment(what, seg, ex)
	}
}

func (s *fzState) opOpenID() {
	sys, impl := s.system()
	which, idx := s.pick(8), int(s.next())
	id := 0
	if len(s.segs) > 0 {
		id = s.segs[idx%len(s.segs)].id
	}
	switch which {
	case 1:
		if fzIs64 {
			id += fzWide
		} else {
			id = -1
		}
	case 2:
		id = -1
	case 3:
		id = idx
	case 4:
		id = math.MaxInt32
	case 5:
		id = math.MaxInt
	case 6:
		if fzIs64 {
			id += fzWide >> 1 // 1<<31
		} else {
			id = math.MinInt32
		}
	}
	s.tracef("OpenSegmentID[%s](%d)", impl, id)
	what := s.trace[len(s.trace)-1]
	seg, err := sys.OpenSegmentID(id)
	var m *fzSeg
	for _, g := range s.segs {
		if !g.destroyed && g.id == id {
			m = g
		}
	}
	if m == nil {
		s.segErr(what, err, "shmctl IPC_STAT", shmmap.IPCPrivate, id, unix.EINVAL)
		return
	}
	s.noErr(what, err)
	s.sameSegment(what, seg, m)
}

func (s *fzState) opAttach() {
	h, mode := s.handle(), fzPick(s, fzAttModes)
	if h == nil {
		return
	}
	s.tracef("Attach(id %d, mode %d)", h.seg.ID(), mode)
	what := s.trace[len(s.trace)-1]
	a, err := h.seg.Attach(mode)
	if (mode != shmmap.AttachReadWrite && mode != shmmap.AttachReadOnly) || h.m.destroyed {
		s.segErr(what, err, "shmat", h.seg.Key(), h.seg.ID(), unix.EINVAL)
		return
	}
	s.noErr(what, err)
	t := &fzAtt{a: a, h: h, ro: mode == shmmap.AttachReadOnly}
	s.atts = append(s.atts, t)
	h.m.nattch++
	b := a.Bytes()
	if a.Len() != int(h.m.size) || len(b) != a.Len() || a.Segment() != h.seg {
		s.fatalf("%s: Len %d, len(Bytes) %d, want %d", what, a.Len(), len(b), h.m.size)
	}
	t.base = uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	s.ranges = append(s.ranges, [2]uintptr{t.base, t.base + uintptr(len(b))})
	s.tracef("\t= attachment %d", len(s.atts)-1)
}

func (s *fzState) opDetach() {
	t := s.att()
	if t == nil {
		return
	}
	s.tracef("Detach(attachment %d of id %d)", slices.Index(s.atts, t), t.h.m.id)
	what := s.trace[len(s.trace)-1]
	s.noErr(what, t.a.Detach())
	if !t.detached {
		t.detached = true
		m := t.h.m
		m.nattch--
		if m.removed && m.nattch == 0 {
			m.destroyed = true
		}
	}
	if t.a.Len() != 0 || t.a.Bytes() != nil {
		s.fatalf("%s: after Detach, Len %d and Bytes of length %d, want 0 and nil", what, t.a.Len(), len(t.a.Bytes()))
	}
}

func (s *fzState) opRemove() {
	h := s.handle()
	if h == nil {
		return
	}
	s.tracef("Remove(id %d)", h.seg.ID())
	what := s.trace[len(s.trace)-1]
	err := h.seg.Remove()
	m := h.m
	if m.destroyed {
		s.segErr(what, err, "shmctl IPC_RMID", h.seg.Key(), h.seg.ID(), unix.EINVAL)
		return
	}
	s.noErr(what, err)
	if !m.removed {
		m.removed = true
		if s.byKey[m.key] == m {
			delete(s.byKey, m.key)
		}
	}
	if m.nattch == 0 {
		m.destroyed = true
	}
}

func (s *fzState) opStat() {
	h := s.handle()
	if h == nil {
		return
	}
	s.tracef("Stat(id %d)", h.seg.ID())
	what := s.trace[len(s.trace)-1]
	info, err := h.seg.Stat()
	if h.m.destroyed {
		s.segErr(what, err, "shmctl IPC_STAT", h.seg.Key(), h.seg.ID(), unix.EINVAL)
		return
	}
	s.noErr(what, err)
	s.checkInfo(what, *info, h.m)
}

func (s *fzState) checkInfo(what string, in shmmap.SegmentInfo, m *fzSeg) {
	key := m.key
	if m.removed {
		key = shmmap.IPCPrivate
	}
	if in.Key != key || in.ID != m.id || in.Size != m.size || in.Mode != m.perm || in.Removed != m.removed ||
		in.Locked || in.Nattch != m.nattch || in.CPID != os.Getpid() {
		s.fatalf("%s: %+v, want key %v id %d size %d mode %v removed %t nattch %d cpid %d",
			what, in, key, m.id, m.size, m.perm, m.removed, m.nattch, os.Getpid())
	}
}

func (s *fzState) opList() {
	s.tracef("ListSegments")
	segs, err := shmmap.ListSegments()
	s.noErr("ListSegments", err)
	var live []*fzSeg
	for _, m := range s.segs {
		if !m.destroyed {
			live = append(live, m)
		}
	}
	if len(segs) != len(live) {
		s.fatalf("ListSegments: %d segments, want %d: %+v", len(segs), len(live), segs)
	}
	for _, in := range segs {
		i := slices.IndexFunc(live, func(m *fzSeg) bool { return m.id == in.ID })
		if i < 0 {
			s.fatalf("ListSegments: segment id %d is not one of ours: %+v", in.ID, in)
		}
		s.checkInfo("ListSegments", in, live[i])
	}
}

// Reading and writing memory.

// fzMem is what Attachment and Mapping share.
type fzMem interface {
	ReadAt(p []byte, off int64) (int, error)
	WriteAt(p []byte, off int64) (int, error)
	Len() int
	Bytes() []byte
}

// fzView is the model of an attachment or a mapping, for access.
type fzView struct {
	what     string
	live     bool
	length   int
	writable bool
	faultAt  int64 // accesses of bytes at or after this offset fault
	base     uintptr
	get      func(i int) (byte, bool) // the byte at offset i, and whether the model knows it
	set      func(i int, v byte)
	blur     func(from, to int)              // a faulting write may have changed these bytes
	shape    func(err error, op string) bool // whether err is wrapped as the object's errors are
}

// memOff picks an offset for memory of length l.
func (s *fzState) memOff(l int) int64 {
	L, P := int64(l), int64(fzPage)
	return fzPick(s, []int64{0, 1, L / 2, L - 1, L, L + 1, -1, math.MinInt64, math.MaxInt64, P - 1, P, P + 1, 17, L - 17})
}

// memLen picks a length for an access at off of memory of length l.
func (s *fzState) memLen(l int, off int64) int {
	L, P := int64(l), int64(fzPage)
	n := fzPick(s, []int64{16, 0, 1, 100, P - 1, P, P + 1, L, L - off, L - off + 1, 3*P + 5, 2})
	return int(max(0, min(n, 4*P+100)))
}

func fzFill(p []byte, seed byte) {
	for i := range p {
		p[i] = seed + byte(i)*0x9d + byte(i>>8)
	}
}

// access does a ReadAt or WriteAt and checks it against the model.
func (s *fzState) access(r fzMem, v fzView, write bool, off int64, n int, seed byte) {
	op, call := "read", "ReadAt"
	if write {
		op, call = "write", "WriteAt"
	}
	p := make([]byte, n)
	var got int
	var err error
	if write {
		fzFill(p, seed)
		got, err = r.WriteAt(p, off)
	} else {
		for i := range p {
			p[i] = ^seed
		}
		got, err = r.ReadAt(p, off)
	}
	what := fmt.Sprintf("%s %s(len %d, off %d)", v.what, call, n, off)
	want := func(target error) {
		if got != 0 || !errors.Is(err, target) || !v.shape(err, op) {
			s.fatalf("%s = (%d, %v), want (0, an error matching %v)", what, got, err, target)
		}
	}
	switch {
	case !v.live:
		want(shmmap.ErrClosed)
		if r.Len() != 0 || r.Bytes() != nil {
			s.fatalf("%s: closed, but Len %d and len(Bytes) %d", what, r.Len(), len(r.Bytes()))
		}
		return
	case write && !v.writable:
		want(shmmap.ErrReadOnly)
		return
	case off < 0 || off > int64(v.length):
		want(shmmap.ErrOutOfRange)
		return
	}
	cnt := min(n, v.length-int(off))
	if cnt > 0 && off+int64(cnt) > v.faultAt {
		want(shmmap.ErrFault)
		var fe *shmmap.FaultError
		if !errors.As(err, &fe) {
			s.fatalf("%s: %v is not a *FaultError", what, err)
		}
		lo, hi := v.base+uintptr(max(off, v.faultAt)), v.base+uintptr(off)+uintptr(cnt)
		if fe.Addr < lo || fe.Addr >= hi {
			s.fatalf("%s: fault at %#x, want in [%#x, %#x)", what, fe.Addr, lo, hi)
		}
		if write && v.faultAt > off {
			v.blur(int(off), int(min(off+int64(cnt), v.faultAt)))
		}
		return
	}
	if got != cnt {
		s.fatalf("%s = (%d, %v), want %d bytes", what, got, err, cnt)
	}
	switch {
	case cnt < n && !write:
		if err != io.EOF {
			s.fatalf("%s = (%d, %v), want io.EOF", what, got, err)
		}
	case cnt < n && write:
		if !errors.Is(err, io.ErrShortWrite) || !v.shape(err, op) {
			s.fatalf("%s = (%d, %v), want an error matching io.ErrShortWrite", what, got, err)
		}
	case err != nil:
		s.fatalf("%s = (%d, %v), want no error", what, got, err)
	}
	for i := range cnt {
		if write {
			v.set(int(off)+i, p[i])
		} else if b, known := v.get(int(off) + i); known && p[i] != b {
			s.fatalf("%s: byte %d (offset %d) is %#02x, want %#02x", what, i, int(off)+i, p[i], b)
		}
	}
	if r.Len() != v.length {
		s.fatalf("%s: Len %d, want %d", what, r.Len(), v.length)
	}
}

func (s *fzState) attView(t *fzAtt) fzView {
	m, seg := t.h.m, t.h.seg
	return fzView{
		what:     fmt.Sprintf("attachment %d of id %d", slices.Index(s.atts, t), m.id),
		live:     !t.detached,
		length:   int(m.size),
		writable: !t.ro,
		faultAt:  math.MaxInt64,
		base:     t.base,
		get:      func(i int) (byte, bool) { return m.data[i], true },
		set:      func(i int, v byte) { m.data[i] = v },
		blur:     func(int, int) { s.fatalf("attachment %d of id %d faulted", slices.Index(s.atts, t), m.id) },
		shape: func(err error, op string) bool {
			var se *shmmap.SegmentError
			return errors.As(err, &se) && se.Op == op && se.ID == seg.ID() && se.Key == seg.Key()
		},
	}
}

func (s *fzState) opAttIO(write bool) {
	t := s.att()
	if t == nil {
		s.next()
		s.next()
		if write {
			s.next()
		}
		return
	}
	off := s.memOff(int(t.h.m.size))
	n := s.memLen(int(t.h.m.size), off)
	var seed byte
	if write {
		seed = s.next()
	}
	s.tracef("attachment %d: write %t off %d len %d seed %d", slices.Index(s.atts, t), write, off, n, seed)
	s.access(t.a, s.attView(t), write, off, n, seed)
}

// Files.

func (s *fzState) newFile(kind, path, shm string, f *os.File, size int64, linked bool) *fzFile {
	ff := &fzFile{kind: kind, path: path, shm: shm, f: f, linked: linked, size: size,
		data: make([]byte, fzFileData), known: make([]bool, fzFileData)}
	for i := range ff.known {
		ff.known[i] = true
	}
	s.files = append(s.files, ff)
	s.tracef("\t= file %d (%s)", len(s.files)-1, path)
	return ff
}

func (s *fzState) opTempFile() {
	size, seed := fzPick(s, fzTmpSizes), s.next()
	path := filepath.Join(s.dir, "fz-"+s.unique())
	s.tracef("temporary file %s, %d bytes, seed %d", path, size, seed)
	data := make([]byte, size)
	fzFill(data, seed)
	s.noErr("WriteFile", os.WriteFile(path, data, 0o600))
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	s.noErr("OpenFile", err)
	ff := s.newFile("file", path, "", f, int64(size), true)
	copy(ff.data, data)
}

// shmFile returns the b'th shared memory object, linked or not, or nil.
func (s *fzState) shmFile(b byte, linked bool) *fzFile {
	var list []*fzFile
	for _, f := range s.files {
		if f.kind == "shm" && f.linked == linked {
			list = append(list, f)
		}
	}
	if len(list) == 0 {
		return nil
	}
	return list[int(b)%len(list)]
}

func (s *fzState) opShmOpen() {
	sys, impl := s.system()
	variant, b := s.pick(16), s.next()
	ex := s.shmFile(b, true)
	var name string
	flag := os.O_RDWR
	var want error // nil: success
	switch variant {
	case 0, 1, 2, 3: // a new object, with leading slashes or not
		name = []string{"", "/", "//", ""}[variant] + s.unique()
		flag |= os.O_CREATE | os.O_EXCL
	case 4, 14, 15: // the existing one, read-write or read-only
		if ex == nil {
			name, want = s.unique(), fs.ErrNotExist
			break
		}
		name = ex.shm
		if variant == 14 {
			flag = os.O_RDONLY
		}
		if variant == 15 {
			name = "/" + name
		}
	case 5: // create-exclusive of the existing one
		if ex == nil {
			return
		}
		name, flag, want = ex.shm, flag|os.O_CREATE|os.O_EXCL, fs.ErrExist
	case 6: // truncate the existing one
		if ex == nil {
			return
		}
		name, flag = ex.shm, flag|os.O_TRUNC
	case 7:
		name, want = s.unique(), fs.ErrNotExist
	case 8, 9, 10, 11:
		name, want = []string{"", "/", s.unique() + "/x", strings.Repeat("x", 300)}[variant-8], unix.EINVAL
		flag |= os.O_CREATE
	case 12: // a NUL inside a new name
		name, flag, want = s.unique()+"\x00x", flag|os.O_CREATE|os.O_EXCL, unix.EINVAL
	case 13: // a NUL after the existing name
		if ex == nil {
			name, flag = s.unique()+"\x00x", flag|os.O_CREATE
		} else {
			name = ex.shm + "\x00x"
		}
		want = unix.EINVAL
	}
	s.tracef("ShmOpen[%s](%q, %#x)", impl, name, flag)
	what := s.trace[len(s.trace)-1]
	f, err := sys.ShmOpen(name, flag, 0o600)
	if want != nil {
		if err == nil {
			f.Close()
		}
		s.pathErr(what, err, "shm_open", name, want)
		return
	}
	s.noErr(what, err)
	canon := strings.TrimLeft(name, "/")
	if f.Name() != "/dev/shm/"+canon {
		f.Close()
		s.fatalf("%s: Name() = %q, want %q", what, f.Name(), "/dev/shm/"+canon)
	}
	if variant <= 3 {
		s.newFile("shm", f.Name(), canon, f, 0, true)
		return
	}
	if flag&os.O_TRUNC != 0 {
		ex.resize(0)
	}
	s.noErr(what+": Close", f.Close())
}

func (s *fzState) opShmUnlink() {
	sys, impl := s.system()
	variant, b := s.pick(6), s.next()
	var name string
	var want error
	var keep *fzFile // must still exist afterwards
	switch variant {
	case 0, 1:
		ex := s.shmFile(b, true)
		if ex == nil {
			name, want = s.unique(), fs.ErrNotExist
			break
		}
		name = ex.shm
		if variant == 1 {
			name = "//" + name
		}
		ex.linked = false
	case 2:
		name, want = s.unique(), fs.ErrNotExist
		if ex := s.shmFile(b, false); ex != nil {
			name = ex.shm
		}
	case 3:
		name, want = "", fs.ErrNotExist
	case 4:
		name, want = s.unique()+"/x", fs.ErrNotExist
	case 5:
		name, want = s.unique()+"\x00x", unix.EINVAL
		if keep = s.shmFile(b, true); keep != nil {
			name = keep.shm + "\x00x"
		}
	}
	s.tracef("ShmUnlink[%s](%q)", impl, name)
	what := s.trace[len(s.trace)-1]
	err := sys.ShmUnlink(name)
	if want == nil {
		s.noErr(what, err)
		return
	}
	s.pathErr(what, err, "shm_unlink", name, want)
	if keep != nil {
		if _, err := os.Stat(keep.path); err != nil {
			keep.linked = false
			s.fatalf("%s: failed, but %s is gone: %v", what, keep.path, err)
		}
	}
}

func (s *fzState) opMemfd() {
	sys, impl := s.system()
	variant, size := s.pick(4), fzPick(s, fzMemSizes)
	name := s.unique()
	var want error
	switch variant {
	case 2:
		name, want = strings.Repeat("n", 250), unix.EINVAL
	case 3:
		name, want = name+"\x00x", unix.EINVAL
	}
	s.tracef("Memfd[%s](%q, %d)", impl, name, size)
	what := s.trace[len(s.trace)-1]
	f, err := sys.Memfd(name, size)
	if want != nil {
		if err == nil {
			f.Close()
		}
		s.pathErr(what, err, "memfd_create", name, want)
		return
	}
	if size < 0 {
		if err == nil {
			f.Close()
		}
		s.pathErr(what, err, "ftruncate", "/memfd:"+name, unix.EINVAL)
		return
	}
	s.noErr(what, err)
	if f.Name() != "/memfd:"+name {
		f.Close()
		s.fatalf("%s: Name() = %q", what, f.Name())
	}
	s.newFile("memfd", f.Name(), "", f, size, false)
}

func (s *fzState) opTruncate() {
	f, size := s.file(), fzPick(s, fzTrunc)
	if f == nil {
		return
	}
	s.tracef("Truncate(file %d, %d)", slices.Index(s.files, f), size)
	what := s.trace[len(s.trace)-1]
	err := f.f.Truncate(size)
	if f.closed {
		if !errors.Is(err, os.ErrClosed) {
			s.fatalf("%s: closed file: %v", what, err)
		}
		return
	}
	s.noErr(what, err)
	f.resize(size)
}

func (s *fzState) opFileIO() {
	f, write, off, n, seed := s.file(), s.pick(2) == 1, fzPick(s, fzIOOffs), fzPick(s, fzIOLens), s.next()
	if f == nil {
		return
	}
	s.tracef("file %d: write %t off %d len %d seed %d", slices.Index(s.files, f), write, off, n, seed)
	what := s.trace[len(s.trace)-1]
	p := make([]byte, n)
	if write {
		fzFill(p, seed)
		got, err := f.f.WriteAt(p, off)
		if f.closed {
			// An empty write makes no system call, so it cannot fail.
			if got != 0 || (n > 0) != errors.Is(err, os.ErrClosed) {
				s.fatalf("%s: closed file: (%d, %v)", what, got, err)
			}
			return
		}
		if got != n || err != nil {
			s.fatalf("%s = (%d, %v)", what, got, err)
		}
		for i, b := range p {
			f.data[off+int64(i)], f.known[off+int64(i)] = b, true
		}
		if n > 0 { // an empty write does not extend the file
			f.size = max(f.size, off+int64(n))
		}
		return
	}
	got, err := f.f.ReadAt(p, off)
	if f.closed {
		if got != 0 || (n > 0) != errors.Is(err, os.ErrClosed) {
			s.fatalf("%s: closed file: (%d, %v)", what, got, err)
		}
		return
	}
	cnt := int(max(0, min(int64(n), f.size-off)))
	if got != cnt || (cnt < n && err != io.EOF) || (cnt == n && err != nil) {
		s.fatalf("%s = (%d, %v), want %d bytes (size %d)", what, got, err, cnt, f.size)
	}
	for i := range cnt {
		if x := off + int64(i); f.known[x] && p[i] != f.data[x] {
			s.fatalf("%s: byte at %d is %#02x, want %#02x", what, x, p[i], f.data[x])
		}
	}
}

func (s *fzState) opFileClose() {
	f, which := s.file(), s.pick(2)
	if f == nil {
		return
	}
	if which == 0 && f.kind == "file" {
		s.tracef("Remove(file %d)", slices.Index(s.files, f))
		err := os.Remove(f.path)
		if f.linked {
			s.noErr(s.trace[len(s.trace)-1], err)
			f.linked = false
		} else if !errors.Is(err, fs.ErrNotExist) {
			s.fatalf("%s: %v, want ErrNotExist", s.trace[len(s.trace)-1], err)
		}
		return
	}
	s.tracef("Close(file %d)", slices.Index(s.files, f))
	err := f.f.Close()
	if f.closed {
		if !errors.Is(err, os.ErrClosed) {
			s.fatalf("%s: %v, want ErrClosed", s.trace[len(s.trace)-1], err)
		}
		return
	}
	s.noErr(s.trace[len(s.trace)-1], err)
	f.closed = true
}

func (s *fzState) opFtok() {
	f, variant, proj := s.file(), s.pick(4), int(s.next())
	path, exists := s.dir, true
	if f != nil {
		path, exists = f.path, f.linked
	}
	var want error
	switch {
	case variant == 2:
		path, want = path+"\x00x", unix.EINVAL
	case variant == 3:
		path, want = "", fs.ErrNotExist
	case !exists:
		want = fs.ErrNotExist
	}
	s.tracef("Ftok(%q, %d)", path, proj)
	what := s.trace[len(s.trace)-1]
	var keys []shmmap.Key
	for _, sys := range s.systems {
		key, err := sys.Ftok(path, proj)
		if want != nil {
			s.pathErr(what+" through "+sys.Impl().Name, err, "ftok", path, want)
			continue
		}
		s.noErr(what+" through "+sys.Impl().Name, err)
		if uint32(key)>>24 != uint32(proj&0xff) {
			s.fatalf("%s through %s = %v: not proj %#x in the top byte", what, sys.Impl().Name, key, proj)
		}
		keys = append(keys, key)
	}
	for _, k := range keys {
		if k != keys[0] {
			s.fatalf("%s: the implementations disagree: %v", what, keys)
		}
	}
}

// Mappings.

func (s *fzState) addMapping(what string, m *shmmap.Mapping, f *fzFile, name string, off int64, length int, mode shmmap.MapMode, empty bool) {
	b := m.Bytes()
	if m.Len() != length || len(b) != length {
		m.Close()
		s.fatalf("%s: Len %d, len(Bytes) %d, want %d", what, m.Len(), len(b), length)
	}
	mm := &fzMapping{m: m, f: f, name: name, off: off, length: length, mode: mode, empty: empty,
		base: uintptr(unsafe.Pointer(unsafe.SliceData(b))), priv: map[int64]*fzPrivPage{}}
	s.maps = append(s.maps, mm)
	f.maps = append(f.maps, mm)
	s.tracef("\t= mapping %d", len(s.maps)-1)
}

func fzModeValid(mode shmmap.MapMode) bool {
	return mode == shmmap.MapShared || mode == shmmap.MapPrivate || mode == shmmap.MapReadOnly
}

func (s *fzState) opMap() {
	sys, impl := s.system()
	f, how := s.file(), s.pick(4)
	off, length, mode := fzPick(s, fzMapOffs), fzPick(s, fzMapLens), fzPick(s, fzMapModes)
	if f == nil {
		return
	}
	file, closed, ro := f.f, f.closed, false
	if how >= 2 && !f.closed {
		// Another descriptor of the same file: read-only, or closed.
		rf, err := os.Open(fmt.Sprintf("/proc/self/fd/%d", f.f.Fd()))
		s.noErr("reopen", err)
		defer rf.Close()
		file, ro = rf, true
		if how == 3 {
			rf.Close()
			closed = true
		}
	}
	name := file.Name()
	s.tracef("Map[%s](file %d %q closed %t read-only %t, off %d, len %d, mode %d)", impl, slices.Index(s.files, f), name, closed, ro, off, length, mode)
	what := s.trace[len(s.trace)-1]
	m, err := sys.Map(file, off, length, mode)
	if err == nil {
		defer func() {
			if !slices.ContainsFunc(s.maps, func(mm *fzMapping) bool { return mm.m == m }) {
				m.Close()
			}
		}()
	}
	switch {
	case off < 0 || length < 0 || !fzModeValid(mode):
		s.pathErr(what, err, "mmap", name, unix.EINVAL)
		return
	case closed:
		op := "mmap"
		if length == 0 {
			op = "fstat"
		}
		s.pathErr(what, err, op, name, unix.EBADF)
		return
	}
	if length == 0 {
		if f.size <= off {
			s.noErr(what, err)
			s.addMapping(what, m, f, name, off, 0, mode, true)
			return
		}
		length = int(f.size - off)
	}
	switch {
	case off >= 1<<40 && err != nil:
		// Whether the kernel maps so far in the file (EOVERFLOW comes
		// before EACCES) is its business.
		s.pathErr(what, err, "mmap", name, err)
		return
	case ro && mode == shmmap.MapShared:
		s.pathErr(what, err, "mmap", name, unix.EACCES)
		return
	}
	s.noErr(what, err)
	s.addMapping(what, m, f, name, off, length, mode, false)
}

func (s *fzState) opMapFile() {
	sys, impl := s.system()
	f, mode := s.file(), fzPick(s, fzMapModes)
	if f == nil {
		return
	}
	s.tracef("MapFile[%s](%q, %d)", impl, f.path, mode)
	what := s.trace[len(s.trace)-1]
	m, err := sys.MapFile(f.path, mode)
	if err == nil {
		defer func() {
			if !slices.ContainsFunc(s.maps, func(mm *fzMapping) bool { return mm.m == m }) {
				m.Close()
			}
		}()
	}
	switch {
	case !f.linked:
		s.pathErr(what, err, "open", f.path, fs.ErrNotExist)
	case !fzModeValid(mode):
		s.pathErr(what, err, "mmap", f.path, unix.EINVAL)
	default:
		s.noErr(what, err)
		s.addMapping(what, m, f, f.path, 0, int(f.size), mode, f.size == 0)
	}
}

func (s *fzState) mapView(mm *fzMapping) fzView {
	f, P := mm.f, int64(fzPage)
	private := mm.mode == shmmap.MapPrivate
	return fzView{
		what:     fmt.Sprintf("mapping %d (%s at %d, mode %d)", slices.Index(s.maps, mm), mm.name, mm.off, mm.mode),
		live:     !mm.closed,
		length:   mm.length,
		writable: mm.mode != shmmap.MapReadOnly,
		faultAt:  f.eof() - mm.off,
		base:     mm.base,
		get: func(i int) (byte, bool) {
			x := mm.off + int64(i)
			if pg := mm.priv[x/P]; pg != nil {
				return pg.data[x%P], pg.known[x%P]
			}
			return f.data[x], f.known[x]
		},
		set: func(i int, v byte) {
			x := mm.off + int64(i)
			if private {
				pg := mm.page(x/P, false)
				pg.data[x%P], pg.known[x%P] = v, true
				return
			}
			// Bytes past the end of the file may or may not survive.
			f.data[x], f.known[x] = v, x < f.size
		},
		blur: func(from, to int) {
			for i := from; i < to; i++ {
				x := mm.off + int64(i)
				if private {
					mm.page(x/P, true).known[x%P] = false
				} else {
					f.known[x] = false
				}
			}
		},
		shape: func(err error, op string) bool {
			var pe *fs.PathError
			return errors.As(err, &pe) && pe.Op == op && pe.Path == mm.name
		},
	}
}

func (s *fzState) opMapIO(write bool) {
	mm := s.mapping()
	if mm == nil {
		s.next()
		s.next()
		if write {
			s.next()
		}
		return
	}
	off := s.memOff(mm.length)
	n := s.memLen(mm.length, off)
	var seed byte
	if write {
		seed = s.next()
	}
	s.tracef("mapping %d: write %t off %d len %d seed %d (file size %d)", slices.Index(s.maps, mm), write, off, n, seed, mm.f.size)
	s.access(mm.m, s.mapView(mm), write, off, n, seed)
}

func (s *fzState) opMapCall() {
	mm, which, advice := s.mapping(), s.pick(4), fzPick(s, fzAdvices)
	if mm == nil {
		return
	}
	var op string
	var err error
	switch which {
	case 0:
		op, err = "msync", mm.m.Sync()
	case 1:
		op, err = "madvise", mm.m.Advise(advice)
	case 2:
		op, err = "mlock", mm.m.Lock()
	case 3:
		op, err = "munlock", mm.m.Unlock()
	}
	s.tracef("mapping %d: %s (advice %d) = %v", slices.Index(s.maps, mm), op, advice, err)
	what := s.trace[len(s.trace)-1]
	switch {
	case mm.closed:
		s.pathErr(what, err, op, mm.name, shmmap.ErrClosed)
		return
	case mm.empty:
		s.noErr(what, err)
		return
	case op == "msync" || op == "munlock":
		s.noErr(what, err)
	case op == "madvise" && !fzAdviceValid(advice):
		s.pathErr(what, err, op, mm.name, unix.EINVAL)
	}
	// The pages mapped: [start, end) rounded out to whole pages.
	P := int64(fzPage)
	start, end := mm.off-mm.off%P, (mm.off+int64(mm.length)+P-1)/P*P
	eof := mm.f.eof()
	switch {
	case op == "mlock" && mm.mode == shmmap.MapPrivate:
		// mlock faults every page in for writing, which copies them.
		for x := start; x < end && x < eof; x += P {
			mm.page(x/P, false)
		}
	case op == "madvise" && err == nil && advice == unix.MADV_DONTNEED && mm.mode == shmmap.MapPrivate:
		clear(mm.priv)
	case op == "madvise" && err == nil && advice == unix.MADV_REMOVE && mm.mode != shmmap.MapPrivate:
		// A hole punched in the file.
		for x := start; x < end && x < eof; x++ {
			mm.f.data[x], mm.f.known[x] = 0, true
		}
	}
}

func (s *fzState) opMapClose() {
	mm := s.mapping()
	if mm == nil {
		return
	}
	s.tracef("Close(mapping %d)", slices.Index(s.maps, mm))
	what := s.trace[len(s.trace)-1]
	s.noErr(what, mm.m.Close())
	mm.closed = true
	if mm.m.Len() != 0 || mm.m.Bytes() != nil {
		s.fatalf("%s: after Close, Len %d and Bytes of length %d, want 0 and nil", what, mm.m.Len(), len(mm.m.Bytes()))
	}
}

// cleanup releases everything the input made, then checks that nothing is
// left.
func (s *fzState) cleanup() (bad []string) {
	note := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	for i, mm := range s.maps {
		if err := mm.m.Close(); err != nil {
			note("cleanup: Close mapping %d: %v", i, err)
		}
	}
	for i, t := range s.atts {
		if err := t.a.Detach(); err != nil {
			note("cleanup: Detach attachment %d: %v", i, err)
		}
	}
	for _, h := range s.handles {
		if m := h.m; !m.removed && !m.destroyed {
			m.removed = true
			if err := h.seg.Remove(); err != nil {
				note("cleanup: Remove id %d: %v", m.id, err)
			}
		}
	}
	for i, f := range s.files {
		if !f.closed {
			if err := f.f.Close(); err != nil {
				note("cleanup: Close file %d: %v", i, err)
			}
		}
		if f.linked {
			var err error
			if f.kind == "shm" {
				err = shmmap.ShmUnlink(f.shm)
			} else {
				err = os.Remove(f.path)
			}
			if err != nil {
				note("cleanup: remove %s: %v", f.path, err)
			}
		}
	}

	if segs, err := shmmap.ListSegments(); err != nil || len(segs) != 0 {
		note("left in the IPC namespace: %+v (%v)", segs, err)
	}
	ents, err := os.ReadDir("/dev/shm")
	if err != nil {
		note("%v", err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), s.prefix) {
			note("left in /dev/shm: %s", e.Name())
			os.Remove(filepath.Join("/dev/shm", e.Name()))
		}
	}
	ents, err = os.ReadDir(s.dir)
	if err != nil {
		note("%v", err)
	}
	for _, e := range ents {
		note("left in %s: %s", s.dir, e.Name())
		os.RemoveAll(filepath.Join(s.dir, e.Name()))
	}
	maps, err := procmaps.Self()
	if err != nil {
		note("%v", err)
	}
	for _, m := range maps {
		if strings.Contains(m.Pathname, s.prefix) || strings.Contains(m.Pathname, s.dir) {
			note("still mapped: %v", m)
		}
		if _, _, ok := m.SysV(); ok {
			for _, r := range s.ranges {
				if m.Start < uint64(r[1]) && uint64(r[0]) < m.End {
					note("still attached: %v", m)
				}
			}
		}
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		note("%v", err)
	}
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && (strings.Contains(target, s.prefix) || strings.Contains(target, s.dir)) {
			note("descriptor %s still open: %s", fd.Name(), target)
		}
	}
	return bad
}

// fzSeeds are the f.Add seed corpus. Each operation is followed by its
// argument bytes, which index the tables above: for the system, 0 is cshim
// when it is built in and 1 is purego (both are purego without cgo).
var fzSeeds = [][]byte{
	// A segment through two attachments, every boundary of ReadAt and
	// WriteAt, Detach twice, Remove while attached, attach after Remove,
	// and everything after the last Detach.
	{
		fzCreate, 1, 1, 0, 0, fzAttach, 0, 0, fzAttach, 0, 1,
		fzAttWrite, 0, 0, 3, 0x41, fzAttRead, 1, 0, 3, fzAttRead, 1, 4, 0,
		fzAttWrite, 1, 0, 0, 7, fzAttWrite, 0, 13, 3, 9, fzAttRead, 1, 13, 0,
		fzAttRead, 0, 6, 0, fzAttRead, 0, 7, 0, fzAttWrite, 0, 8, 0, 3, fzAttRead, 1, 5, 0,
		fzStat, 0, fzDetach, 0, fzDetach, 0, fzAttRead, 0, 0, 0, fzAttWrite, 0, 0, 0, 1,
		fzRemove, 0, fzStat, 0, fzOpen, 1, 1, fzAttach, 0, 0, fzAttRead, 2, 0, 7,
		fzDetach, 1, fzDetach, 2, fzStat, 0, fzRemove, 0, fzAttach, 0, 0, fzList,
	},
	// Creating and opening on a few keys: EINVAL for sizes 0 and -1 and
	// for a size larger than the segment's, EEXIST, ENOENT, IPC_PRIVATE,
	// and a key reused after Remove.
	{
		fzCreate, 0, 2, 7, 0, fzCreate, 0, 2, 8, 0, fzCreate, 0, 2, 5, 3, fzCreate, 0, 2, 0, 0,
		fzCreate, 1, 2, 7, 0, fzOpenOrCreate, 1, 2, 0, 0, fzOpenOrCreate, 1, 2, 6, 0,
		fzOpenOrCreate, 0, 3, 9, 1, fzOpenOrCreate, 0, 0, 2, 0, fzOpenOrCreate, 0, 0, 7, 0,
		fzOpen, 0, 0, fzOpen, 1, 3, fzOpen, 0, 1, fzAttach, 1, 0, fzAttach, 4, 1, fzAttach, 2, 4,
		fzAttWrite, 0, 2, 8, 0x77, fzAttach, 0, 1, fzAttRead, 2, 2, 8, fzAttRead, 1, 0, 7,
		fzList, fzStat, 3, fzRemove, 1, fzOpenOrCreate, 1, 2, 0, 0, fzList, fzStat, 0,
	},
	// OpenSegmentID of live, removed, negative, huge and truncatable ids.
	{
		fzCreate, 0, 1, 0, 0, fzCreate, 1, 0, 1, 1, fzOpenID, 0, 0, 0, fzOpenID, 1, 1, 0,
		fzOpenID, 0, 2, 0, fzOpenID, 1, 3, 1, fzOpenID, 0, 3, 77, fzOpenID, 1, 4, 0,
		fzOpenID, 0, 5, 0, fzOpenID, 1, 6, 1, fzAttach, 1, 0, fzRemove, 0, fzOpenID, 0, 0, 0,
		fzRemove, 1, fzOpenID, 1, 7, 1, fzStat, 4, fzAttach, 4, 1, fzList, fzDetach, 0, fzList,
	},
	// A file truncated under shared, private and read-only mappings:
	// faults past the new end, and zeros once it grows again.
	{
		fzTempFile, 0, 0x30, fzMap, 1, 0, 0, 0, 0, 0, fzMapFile, 0, 0, 1, fzMap, 0, 0, 2, 4, 1, 2,
		fzMapWrite, 0, 0, 5, 0x11, fzMapRead, 1, 0, 6, fzMapWrite, 1, 9, 3, 0x22, fzMapRead, 2, 0, 0,
		fzTruncate, 0, 0, fzMapRead, 0, 10, 0, fzMapWrite, 0, 11, 3, 0x33, fzMapRead, 1, 0, 5,
		fzMapRead, 1, 9, 3, fzMapRead, 2, 0, 0, fzTruncate, 0, 7, fzMapRead, 0, 10, 5,
		fzMapRead, 1, 10, 0, fzFileIO, 0, 0, 3, 2, 0x44, fzFileIO, 0, 1, 2, 4, 0x55,
		fzMapRead, 0, 9, 3, fzMapRead, 1, 9, 3, fzMapClose, 0, fzMapClose, 0, fzMapRead, 0, 0, 0,
		fzMapCall, 0, 0, 0, fzTruncate, 0, 1, fzMapRead, 1, 0, 0, fzMapWrite, 1, 0, 0, 1,
		fzFileClose, 0, 0, fzMapFile, 0, 0, 0, fzFtok, 0, 0, 1, fzFileClose, 0, 0,
	},
	// POSIX shared memory objects: created, opened every way, refused
	// names, O_TRUNC under a mapping, unlinked while mapped.
	{
		fzShmOpen, 0, 0, 0, fzTruncate, 0, 6, fzMap, 1, 0, 0, 0, 0, 0, fzMapFile, 0, 0, 2,
		fzMapWrite, 0, 2, 0, 0x5a, fzMapRead, 1, 2, 0, fzShmOpen, 1, 4, 0, fzShmOpen, 0, 5, 0,
		fzShmOpen, 1, 14, 0, fzShmOpen, 0, 15, 0, fzShmOpen, 1, 8, 0, fzShmOpen, 0, 9, 0,
		fzShmOpen, 1, 10, 0, fzShmOpen, 0, 11, 0, fzShmOpen, 1, 12, 0, fzShmOpen, 0, 13, 0,
		fzShmOpen, 1, 7, 0, fzShmOpen, 0, 6, 0, fzMapRead, 0, 0, 0, fzMapRead, 1, 0, 1,
		fzShmUnlink, 1, 5, 0, fzShmUnlink, 0, 1, 0, fzShmUnlink, 1, 2, 0, fzShmUnlink, 0, 3, 0,
		fzShmUnlink, 1, 4, 0, fzMapFile, 1, 0, 0, fzTruncate, 0, 0, fzMapRead, 0, 0, 5,
		fzShmOpen, 1, 2, 0, fzFtok, 1, 0, 0x80,
	},
	// memfds: private and shared mappings of one, Lock copying the private
	// pages, MADV_DONTNEED refused while locked then dropping them,
	// MADV_REMOVE, invalid advice, an empty mapping, a mapping past the
	// end that becomes readable when the file grows.
	{
		fzMemfd, 0, 0, 3, fzMemfd, 1, 2, 0, fzMemfd, 0, 3, 0, fzMemfd, 1, 0, 5, fzMemfd, 1, 1, 1,
		fzMap, 0, 0, 0, 0, 0, 1, fzMap, 1, 0, 0, 0, 0, 0, fzMapWrite, 1, 0, 7, 0x10,
		fzMapRead, 0, 0, 7, fzMapWrite, 0, 1, 3, 0x20, fzMapCall, 0, 2, 0, fzMapWrite, 1, 10, 5, 0x30,
		fzMapRead, 0, 10, 5, fzMapCall, 0, 1, 4, fzMapCall, 0, 3, 0, fzMapCall, 0, 1, 4,
		fzMapRead, 0, 0, 7, fzMapCall, 1, 0, 0, fzMapCall, 1, 1, 12, fzMapCall, 1, 1, 13,
		fzMapCall, 1, 1, 14, fzMapCall, 1, 1, 5, fzMapRead, 1, 0, 7, fzMapRead, 0, 0, 7,
		fzMapCall, 0, 1, 3, fzMap, 0, 1, 0, 0, 0, 0, fzMapCall, 2, 1, 12, fzMapRead, 2, 0, 0,
		fzMapWrite, 2, 0, 0, 1, fzMap, 1, 1, 0, 0, 1, 0, fzMapRead, 3, 0, 0, fzTruncate, 1, 0,
		fzMapRead, 3, 0, 0, fzMapClose, 3, fzMapCall, 3, 2, 0, fzMapCall, 0, 2, 0, fzMapCall, 1, 2, 0,
	},
	// Map's argument errors: negative offset and length, invalid modes, a
	// closed descriptor, a read-only one, offsets far past the end.
	{
		fzTempFile, 6, 1, fzMap, 0, 0, 0, 8, 0, 0, fzMap, 1, 0, 0, 0, 8, 0, fzMap, 0, 0, 0, 0, 0, 5,
		fzMap, 1, 0, 0, 0, 0, 6, fzMap, 0, 0, 3, 0, 0, 0, fzMap, 1, 0, 3, 0, 1, 1,
		fzMap, 0, 0, 2, 0, 0, 0, fzMap, 1, 0, 2, 0, 1, 1, fzMap, 0, 0, 0, 9, 1, 0,
		fzMap, 1, 0, 0, 10, 1, 0, fzMap, 0, 0, 0, 10, 0, 0, fzMap, 1, 0, 0, 6, 0, 0,
		fzMap, 0, 0, 0, 1, 0, 1, fzMapRead, 0, 3, 9, fzMapWrite, 0, 3, 9, 5,
		fzFileClose, 0, 1, fzFileClose, 0, 1, fzTruncate, 0, 0, fzFileIO, 0, 0, 0, 0, 0,
		fzMap, 0, 0, 0, 0, 0, 0, fzMapFile, 1, 0, 2, fzMapFile, 0, 0, 5,
		fzFtok, 0, 0, 0x41, fzFtok, 0, 2, 0x81, fzFtok, 0, 3, 1,
	},
	// Both implementations on the same segments: created by one, attached,
	// written and removed by the other, with many attachments.
	{
		fzOpenOrCreate, 0, 1, 4, 0, fzOpenOrCreate, 1, 1, 1, 0, fzOpen, 0, 1, fzOpenID, 1, 0, 0,
		fzAttach, 0, 0, fzAttach, 1, 1, fzAttach, 2, 0, fzAttach, 3, 1,
		fzAttWrite, 2, 11, 4, 0x99, fzAttRead, 1, 9, 6, fzAttRead, 3, 11, 6, fzAttWrite, 0, 3, 1, 2,
		fzRemove, 1, fzCreate, 1, 1, 3, 0, fzAttach, 4, 0, fzAttRead, 4, 0, 7, fzStat, 0, fzStat, 4,
		fzDetach, 0, fzDetach, 1, fzDetach, 2, fzStat, 3, fzDetach, 3, fzStat, 2, fzList,
	},
	// Odd sizes: a segment of 1 byte and one of 7, and pages-and-a-bit.
	{
		fzCreate, 0, 2, 1, 0, fzCreate, 1, 3, 9, 0, fzCreate, 0, 0, 3, 0, fzCreate, 1, 0, 4, 2,
		fzAttach, 0, 0, fzAttach, 1, 0, fzAttach, 2, 1, fzAttach, 3, 0,
		fzAttWrite, 0, 0, 2, 1, fzAttWrite, 0, 1, 1, 2, fzAttWrite, 0, 4, 2, 3, fzAttWrite, 0, 5, 2, 4,
		fzAttWrite, 1, 3, 11, 5, fzAttRead, 1, 0, 9, fzAttWrite, 3, 9, 5, 6, fzAttRead, 3, 10, 0,
		fzAttRead, 2, 12, 11, fzAttRead, 2, 3, 10, fzAttRead, 0, 0, 1, fzList,
	},
	// read(2) and write(2) against shared and private mappings of a file,
	// and writes through a shared mapping past the end of the file.
	{
		fzTempFile, 7, 0x21, fzMap, 0, 0, 0, 0, 0, 0, fzMap, 1, 0, 0, 3, 1, 1, fzFileIO, 0, 1, 4, 4, 3,
		fzMapRead, 0, 11, 5, fzMapRead, 1, 12, 3, fzMapWrite, 1, 0, 3, 4, fzFileIO, 0, 1, 3, 0, 5,
		fzMapRead, 1, 0, 3, fzMapWrite, 0, 4, 0, 6, fzFileIO, 0, 0, 5, 2, 0, fzTruncate, 0, 8,
		fzMapRead, 0, 13, 3, fzFileIO, 0, 0, 4, 4, 0, fzMapCall, 0, 0, 0, fzMapCall, 1, 1, 11,
		fzMapCall, 0, 1, 10, fzMapCall, 1, 1, 4, fzMapRead, 1, 0, 7, fzFileClose, 0, 1,
		fzMapRead, 0, 0, 7, fzMapFile, 0, 0, 0, fzMapRead, 2, 2, 7,
	},
	// Everything at once: a segment, a file, a shm object and a memfd
	// left for the cleanup to release.
	{
		fzCreate, 1, 1, 5, 0, fzAttach, 0, 0, fzAttach, 0, 1, fzTempFile, 5, 9, fzShmOpen, 1, 1, 0,
		fzMemfd, 0, 0, 0, fzTruncate, 1, 5, fzMapFile, 1, 1, 0, fzMap, 0, 2, 0, 0, 0, 1,
		fzMap, 1, 0, 2, 0, 0, 2, fzMapFile, 0, 0, 1, fzMapCall, 0, 2, 0, fzMapCall, 1, 2, 0,
		fzFtok, 0, 1, 7, fzFtok, 1, 1, 7, fzFtok, 2, 1, 7, fzList,
	},
	// Bytes with no particular meaning.
	[]byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18" +
		"shmmap fuzzes the safe API: segments, mappings, files, shm objects and memfds"),
}
