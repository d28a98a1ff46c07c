package conformance

// The root package's System V API (segments, attachments, IPC_STAT, ftok
// keys) run unchanged over every implementation through shmmap.Using. Each
// scenario runs in a fresh IPC namespace (see each), so the fixed key
// cannot collide and every segment dies with the namespace even if a test
// fails half-way.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/shmtest"
	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// apiKey is the key the API scenarios use; each runs in its own namespace.
const apiKey shmmap.Key = 0x5eed

// apiSentinels are the errors an outcome records a match for, in order.
var apiSentinels = []struct {
	name string
	err  error
}{
	{"ErrClosed", shmmap.ErrClosed},
	{"ErrReadOnly", shmmap.ErrReadOnly},
	{"ErrFault", shmmap.ErrFault},
	{"ErrOutOfRange", shmmap.ErrOutOfRange},
	{"EOF", io.EOF},
	{"ErrShortWrite", io.ErrShortWrite},
	{"ErrExist", fs.ErrExist},
	{"ErrNotExist", fs.ErrNotExist},
	{"ErrPermission", fs.ErrPermission},
}

// apiErr describes an error of the API for comparison across
// implementations and against the wanted value, without anything that
// differs from run to run (ids, addresses, paths): the wrapper type and its
// operation, every sentinel the error matches, and its errno name. "" is
// nil.
func apiErr(err error) string {
	if err == nil {
		return ""
	}
	var parts []string
	var se *shmmap.SegmentError
	var pe *fs.PathError
	switch {
	case errors.As(err, &se):
		parts = append(parts, "SegmentError "+se.Op)
	case errors.As(err, &pe):
		parts = append(parts, "PathError "+pe.Op)
	}
	for _, s := range apiSentinels {
		if errors.Is(err, s.err) {
			parts = append(parts, s.name)
		}
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		parts = append(parts, unix.ErrnoName(e))
	}
	if len(parts) == 0 {
		return "unrecognised: " + err.Error()
	}
	return strings.Join(parts, " ")
}

// apiMustCreate creates a segment through the API or stops the test.
func apiMustCreate(t *testing.T, s *shmmap.System, key shmmap.Key, size int64, perm fs.FileMode) *shmmap.Segment {
	t.Helper()
	seg, err := s.CreateSegment(key, size, perm)
	if err != nil {
		t.Fatalf("CreateSegment(%v, %d, %v): %v", key, size, perm, err)
	}
	return seg
}

// apiMustAttach attaches seg and detaches it when the test ends (a second
// Detach is a no-op, so tests may detach earlier).
func apiMustAttach(t *testing.T, seg *shmmap.Segment, mode shmmap.AttachMode) *shmmap.Attachment {
	t.Helper()
	a, err := seg.Attach(mode)
	if err != nil {
		t.Fatalf("Attach(%v) of segment %d: %v", mode, seg.ID(), err)
	}
	t.Cleanup(func() {
		if err := a.Detach(); err != nil {
			t.Errorf("Detach at cleanup: %v", err)
		}
	})
	return a
}

// apiSegmentsHere counts the segments in the calling thread's IPC
// namespace (/proc/sysvipc/shm is read for the namespace of the reading
// thread, which for a scenario of each is its private one).
func apiSegmentsHere(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/sysvipc/shm")
	if err != nil {
		t.Fatalf("reading /proc/sysvipc/shm: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return len(lines) - 1 // the header
}

// apiSegErrFields checks that err is a *SegmentError for op, key and id.
func apiSegErrFields(t *testing.T, what string, err error, op string, key shmmap.Key, id int) {
	t.Helper()
	var se *shmmap.SegmentError
	if !errors.As(err, &se) {
		t.Errorf("%s: error %v (%T) is not a *shmmap.SegmentError", what, err, err)
		return
	}
	if se.Op != op || se.Key != key || se.ID != id {
		t.Errorf("%s: SegmentError{Op: %q, Key: %v, ID: %d}, want {Op: %q, Key: %v, ID: %d}", what, se.Op, se.Key, se.ID, op, key, id)
	}
	if msg := se.Error(); !strings.Contains(msg, op) || !strings.Contains(msg, key.String()) || !strings.Contains(msg, se.Err.Error()) {
		t.Errorf("%s: message %q should name the operation %q, the key %v and the cause %q", what, msg, op, key, se.Err)
	}
}

// TestAPICreateSegment: CreateSegment is shmget with IPC_CREAT|IPC_EXCL:
// a second create at the same key fails with EEXIST, reported as
// fs.ErrExist in a *SegmentError naming the key.
func TestAPICreateSegment(t *testing.T) {
	type outcome struct {
		Key          shmmap.Key
		Size         int64
		IDValid      bool
		Mode         fs.FileMode
		Second       string
		SecondNilSeg bool
		IsEEXIST     bool
		OddPermMode  fs.FileMode
		Segments     int
	}
	got := each(t, func(t *testing.T, sys sysapi.Impl) outcome {
		s := shmmap.Using(sys)
		seg := apiMustCreate(t, s, apiKey, 5000, 0o640)
		info, err := seg.Stat()
		if err != nil {
			t.Fatal(err)
		}
		o := outcome{Key: seg.Key(), Size: seg.Size(), IDValid: seg.ID() >= 0, Mode: info.Mode}
		seg2, err := s.CreateSegment(apiKey, 5000, 0o640)
		o.Second, o.SecondNilSeg, o.IsEEXIST = apiErr(err), seg2 == nil, errors.Is(err, unix.EEXIST)
		apiSegErrFields(t, "second CreateSegment", err, "shmget", apiKey, -1)
		// Only the permission bits of perm reach shmget: 0o7000 there
		// would be SHM_HUGETLB, IPC_EXCL and IPC_CREAT.
		odd := apiMustCreate(t, s, apiKey+1, 4096, fs.ModeSetgid|fs.ModeDir|0o7604)
		if info, err := odd.Stat(); err == nil {
			o.OddPermMode = info.Mode
		}
		o.Segments = apiSegmentsHere(t)
		return o
	})
	want := outcome{Key: apiKey, Size: 5000, IDValid: true, Mode: 0o640,
		Second: "SegmentError shmget ErrExist EEXIST", SecondNilSeg: true, IsEEXIST: true,
		OddPermMode: 0o604, Segments: 2}
	for name, o := range got {
		if d := cmp.Diff(want, o); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
}

// TestAPIOpenSegment: OpenSegment never creates; it finds a segment by key
// and takes its size from IPC_STAT, whatever size the opener had in mind.
func TestAPIOpenSegment(t *testing.T) {
	type outcome struct {
		Missing       string
		Created       int // segments after the failed opens: none were made
		SameID        bool
		Key           shmmap.Key
		Size          int64
		AttachLen     int
		SeesData      string
		Private       string
		AfterPrivate  int
		PrivateNilSeg bool
	}
	got := each(t, func(t *testing.T, sys sysapi.Impl) outcome {
		s := shmmap.Using(sys)
		var o outcome
		_, err := s.OpenSegment(apiKey)
		o.Missing = apiErr(err)
		apiSegErrFields(t, "OpenSegment of a missing key", err, "shmget", apiKey, -1)
		o.Created = apiSegmentsHere(t)

		seg := apiMustCreate(t, s, apiKey, 5000, 0o600)
		a := apiMustAttach(t, seg, shmmap.AttachReadWrite)
		if _, err := a.WriteAt([]byte("from the creator"), 4984); err != nil {
			t.Fatal(err)
		}
		opened, err := s.OpenSegment(apiKey)
		if err != nil {
			t.Fatalf("OpenSegment of an existing key: %v", err)
		}
		o.SameID, o.Key, o.Size = opened.ID() == seg.ID(), opened.Key(), opened.Size()
		b := apiMustAttach(t, opened, shmmap.AttachReadOnly)
		o.AttachLen = b.Len()
		buf := make([]byte, 16)
		if _, err := b.ReadAt(buf, 4984); err != nil {
			t.Fatal(err)
		}
		o.SeesData = string(buf)

		before := apiSegmentsHere(t)
		seg2, err := s.OpenSegment(shmmap.IPCPrivate)
		o.Private, o.PrivateNilSeg = apiErr(err), seg2 == nil
		o.AfterPrivate = apiSegmentsHere(t) - before
		return o
	})
	want := outcome{
		Missing: "SegmentError shmget ErrNotExist ENOENT", Created: 0,
		SameID: true, Key: apiKey, Size: 5000, AttachLen: 5000, SeesData: "from the creator",
		// There is nothing to find at IPC_PRIVATE, and OpenSegment must
		// not create (shmget(IPC_PRIVATE, ...) would).
		Private: "SegmentError shmget ErrNotExist ENOENT", AfterPrivate: 0, PrivateNilSeg: true,
	}
	for name, o := range got {
		if d := cmp.Diff(want, o); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
}

// TestAPIOpenOrCreateSegment: created is true only for the call that made
// the segment; an existing segment is returned with its real size, and one
// smaller than asked for is EINVAL (shmget(2): "size is greater than the
// size of that segment").
func TestAPIOpenOrCreateSegment(t *testing.T) {
	type call struct {
		Created bool
		SameID  bool
		Size    int64
		Err     string
	}
	type outcome map[string]call
	got := each(t, func(t *testing.T, sys sysapi.Impl) outcome {
		s := shmmap.Using(sys)
		o := outcome{}
		first, created, err := s.OpenOrCreateSegment(apiKey, 5000, 0o600)
		if err != nil {
			t.Fatalf("first OpenOrCreateSegment: %v", err)
		}
		o["first"] = call{Created: created, SameID: true, Size: first.Size()}
		for _, c := range []struct {
			what string
			size int64
		}{{"same size", 5000}, {"smaller", 100}, {"one byte", 1}, {"larger", 5001}, {"negative", -1}} {
			seg, created, err := s.OpenOrCreateSegment(apiKey, c.size, 0o600)
			r := call{Created: created, Err: apiErr(err)}
			if seg != nil {
				r.SameID, r.Size = seg.ID() == first.ID(), seg.Size()
			}
			if c.what == "larger" {
				if !errors.Is(err, unix.EINVAL) {
					t.Errorf("OpenOrCreateSegment larger than the existing segment: %v, want EINVAL", err)
				}
				apiSegErrFields(t, "OpenOrCreateSegment larger", err, "shmget", apiKey, -1)
			}
			o[c.what] = r
		}
		p1, c1, err1 := s.OpenOrCreateSegment(shmmap.IPCPrivate, 100, 0o600)
		p2, c2, err2 := s.OpenOrCreateSegment(shmmap.IPCPrivate, 100, 0o600)
		if err1 != nil || err2 != nil {
			t.Fatalf("OpenOrCreateSegment(IPCPrivate): %v, %v", err1, err2)
		}
		o["private twice"] = call{Created: c1 && c2, SameID: p1.ID() == p2.ID(), Size: p2.Size()}
		return o
	})
	want := outcome{
		"first":         {Created: true, SameID: true, Size: 5000},
		"same size":     {SameID: true, Size: 5000},
		"smaller":       {SameID: true, Size: 5000},
		"one byte":      {SameID: true, Size: 5000},
		"larger":        {Err: "SegmentError shmget EINVAL"},
		"negative":      {Err: "SegmentError shmget EINVAL"},
		"private twice": {Created: true, SameID: false, Size: 100},
	}
	for name, o := range got {
		if d := cmp.Diff(want, o); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
}

// TestAPIOpenSegmentID: a segment is found by id with its key and size; a
// wrong id is EINVAL (shmctl(2)); a segment removed while attached is still
// found by id, with the key IPC_PRIVATE as the kernel reports it.
func TestAPIOpenSegmentID(t *testing.T) {
	type outcome struct {
		Key             shmmap.Key
		Size            int64
		Wrong, Negative string
		RemovedKey      shmmap.Key
		RemovedFlag     bool
		Gone            string
	}
	got := each(t, func(t *testing.T, sys sysapi.Impl) outcome {
		s := shmmap.Using(sys)
		var o outcome
		seg := apiMustCreate(t, s, apiKey, 3000, 0o600)
		byID, err := s.OpenSegmentID(seg.ID())
		if err != nil {
			t.Fatalf("OpenSegmentID(%d): %v", seg.ID(), err)
		}
		if byID.ID() != seg.ID() {
			t.Errorf("OpenSegmentID(%d).ID() = %d", seg.ID(), byID.ID())
		}
		o.Key, o.Size = byID.Key(), byID.Size()
		_, err = s.OpenSegmentID(seg.ID() + 1)
		o.Wrong = apiErr(err)
		apiSegErrFields(t, "OpenSegmentID of a wrong id", err, "shmctl IPC_STAT", shmmap.IPCPrivate, seg.ID()+1)
		_, err = s.OpenSegmentID(-1)
		o.Negative = apiErr(err)

		a := apiMustAttach(t, seg, shmmap.AttachReadWrite)
		if err := seg.Remove(); err != nil {
			t.Fatal(err)
		}
		removed, err := s.OpenSegmentID(seg.ID())
		if err != nil {
			t.Fatalf("OpenSegmentID of a removed but attached segment: %v", err)
		}
		info, err := removed.Stat()
		if err != nil {
			t.Fatal(err)
		}
		o.RemovedKey, o.RemovedFlag = removed.Key(), info.Removed
		if err := a.Detach(); err != nil {
			t.Fatal(err)
		}
		_, err = s.OpenSegmentID(seg.ID())
		o.Gone = apiErr(err)
		return o
	})
	want := outcome{Key: apiKey, Size: 3000,
		Wrong: "SegmentError shmctl IPC_STAT EINVAL", Negative: "SegmentError shmctl IPC_STAT EINVAL",
		RemovedKey: shmmap.IPCPrivate, RemovedFlag: true, Gone: "SegmentError shmctl IPC_STAT EINVAL"}
	for name, o := range got {
		if d := cmp.Diff(want, o); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
}

// TestAPISegmentSizes: negative sizes are EINVAL before any system call;
// size 0 is below SHMMIN (EINVAL); sizes no machine can hold fail with an
// error, never a panic or a truncated size, and leave nothing behind.
func TestAPISegmentSizes(t *testing.T) {
	type outcome map[string]string
	got := each(t, func(t *testing.T, sys sysapi.Impl) outcome {
		s := shmmap.Using(sys)
		o := outcome{}
		_, err := s.CreateSegment(apiKey, -1, 0o600)
		o["create -1"] = apiErr(err)
		_, err = s.CreateSegment(apiKey, math.MinInt64, 0o600)
		o["create MinInt64"] = apiErr(err)
		_, _, err = s.OpenOrCreateSegment(apiKey, -4096, 0o600)
		o["open or create -4096"] = apiErr(err)
		_, err = s.CreateSegment(apiKey, 0, 0o600)
		o["create 0"] = apiErr(err)
		for _, size := range []int64{1 << 62, math.MaxInt64} {
			what := fmt.Sprintf("create %#x", size)
			seg, err := s.CreateSegment(apiKey, size, 0o600)
			if err == nil {
				// Only with vm.overcommit_memory=1 can the kernel accept
				// such a segment; it still cannot be attached.
				a, aerr := seg.Attach(shmmap.AttachReadWrite)
				if aerr == nil {
					a.Detach()
					t.Errorf("%s: a segment of %d bytes was created and attached", what, size)
				}
				if rerr := seg.Remove(); rerr != nil {
					t.Errorf("%s: Remove: %v", what, rerr)
				}
				o[what] = "attach: " + apiErr(aerr)
				continue
			}
			// The errno (ENOMEM, ENOSPC) depends on the machine.
			var se *shmmap.SegmentError
			if errors.As(err, &se) && se.Op == "shmget" {
				o[what] = "shmget error"
			} else {
				o[what] = "not a SegmentError: " + err.Error()
			}
		}
		o["segments left"] = fmt.Sprint(apiSegmentsHere(t))
		return o
	})
	for name, o := range got {
		for what, want := range map[string]string{
			"create -1":            "SegmentError shmget EINVAL",
			"create MinInt64":      "SegmentError shmget EINVAL",
			"open or create -4096": "SegmentError shmget EINVAL",
			"create 0":             "SegmentError shmget EINVAL",
			"segments left":        "0",
		} {
			if o[what] != want {
				t.Errorf("%s: %s: %q, want %q", name, what, o[what], want)
			}
		}
		for _, what := range []string{"create 0x4000000000000000", "create 0x7fffffffffffffff"} {
			if o[what] != "shmget error" && !strings.HasPrefix(o[what], "attach: SegmentError shmat") {
				t.Errorf("%s: %s: %q, want an error from shmget (or, with overcommit, from shmat)", name, what, o[what])
			}
		}
	}
}

// TestAPIPrivateSegments: every CreateSegment(IPCPrivate) is a new
// segment, found by no key.
func TestAPIPrivateSegments(t *testing.T) {
	type outcome struct {
		DistinctIDs      bool
		Keys             []shmmap.Key
		StatKeys         []shmmap.Key
		Segments         int
		OtherStaysZero   byte
		OwnSeesWrite     byte
		ByIDSeesPrivates bool
	}
	got := each(t, func(t *testing.T, sys sysapi.Impl) outcome {
		s := shmmap.Using(sys)
		p1 := apiMustCreate(t, s, shmmap.IPCPrivate, 4096, 0o600)
		p2 := apiMustCreate(t, s, shmmap.IPCPrivate, 4096, 0o600)
		o := outcome{DistinctIDs: p1.ID() != p2.ID(), Keys: []shmmap.Key{p1.Key(), p2.Key()}, Segments: apiSegmentsHere(t)}
		for _, p := range []*shmmap.Segment{p1, p2} {
			info, err := p.Stat()
			if err != nil {
				t.Fatal(err)
			}
			o.StatKeys = append(o.StatKeys, info.Key)
		}
		a1 := apiMustAttach(t, p1, shmmap.AttachReadWrite)
		a2 := apiMustAttach(t, p2, shmmap.AttachReadWrite)
		if _, err := a1.WriteAt([]byte{0xa5}, 7); err != nil {
			t.Fatal(err)
		}
		o.OwnSeesWrite, o.OtherStaysZero = a1.Bytes()[7], a2.Bytes()[7]
		byID, err := s.OpenSegmentID(p2.ID())
		o.ByIDSeesPrivates = err == nil && byID.Key() == shmmap.IPCPrivate && byID.Size() == 4096
		return o
	})
	want := outcome{DistinctIDs: true, Keys: []shmmap.Key{0, 0}, StatKeys: []shmmap.Key{0, 0}, Segments: 2,
		OwnSeesWrite: 0xa5, OtherStaysZero: 0, ByIDSeesPrivates: true}
	for name, o := range got {
		if d := cmp.Diff(want, o); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
}

// apiIO is one ReadAt or WriteAt: its count, its error and, for reads,
// the bytes read.
type apiIO struct {
	N    int
	Err  string
	Data string
}

func apiRead(r io.ReaderAt, size int, off int64) apiIO {
	p := make([]byte, size)
	n, err := r.ReadAt(p, off)
	if n < 0 || n > size {
		return apiIO{N: n, Err: fmt.Sprintf("ReadAt returned n=%d for a %d-byte buffer", n, size)}
	}
	return apiIO{N: n, Err: apiErr(err), Data: string(p[:n])}
}

func apiWrite(w io.WriterAt, p string, off int64) apiIO {
	n, err := w.WriteAt([]byte(p), off)
	return apiIO{N: n, Err: apiErr(err)}
}

// TestAPIAttachReadWrite: ReadAt and WriteAt behave as io.ReaderAt and
// io.WriterAt over exactly the segment's bytes, through a read-write and a
// read-only attachment of the same segment.
func TestAPIAttachReadWrite(t *testing.T) {
	const size = 5000
	type outcome struct {
		RWLen, ROLen     int
		BytesLen         int
		InitiallyZero    bool
		Ops              map[string]apiIO
		ROUnchanged      bool
		ZeroCopy         string
		ZeroCopyBack     string
		SectionAll       int
		SectionErr       string
		SegmentIsCreator bool
	}
	got := each(t, func(t *testing.T, sys sysapi.Impl) outcome {
		s := shmmap.Using(sys)
		seg := apiMustCreate(t, s, apiKey, size, 0o600)
		rw := apiMustAttach(t, seg, shmmap.AttachReadWrite)
		ro := apiMustAttach(t, seg, shmmap.AttachReadOnly)
		o := outcome{RWLen: rw.Len(), ROLen: ro.Len(), BytesLen: len(rw.Bytes()), Ops: map[string]apiIO{},
			SegmentIsCreator: rw.Segment() == seg && ro.Segment() == seg}
		all := make([]byte, size)
		n, err := ro.ReadAt(all, 0)
		o.InitiallyZero = n == size && err == nil && bytes.Count(all, []byte{0}) == size

		o.Ops["write 4990"] = apiWrite(rw, "0123456789", 4990)
		o.Ops["read it through ro"] = apiRead(ro, 10, 4990)
		o.Ops["read across the end"] = apiRead(ro, 20, 4990)
		o.Ops["read at the end"] = apiRead(ro, 1, size)
		o.Ops["read nothing at the end"] = apiRead(ro, 0, size)
		o.Ops["read negative"] = apiRead(ro, 1, -1)
		o.Ops["read past the end"] = apiRead(ro, 1, size+1)
		o.Ops["write negative"] = apiWrite(rw, "x", -1)
		o.Ops["write past the end"] = apiWrite(rw, "x", size+1)
		o.Ops["write across the end"] = apiWrite(rw, "abcdef", size-3)
		o.Ops["after the short write"] = apiRead(rw, 10, size-10)
		before := bytes.Clone(ro.Bytes())
		o.Ops["write through ro"] = apiWrite(ro, "XXXX", 4990)
		o.Ops["write nothing through ro"] = apiWrite(ro, "", 0)
		o.Ops["huge offset"] = apiRead(rw, 1, math.MaxInt64)

		// A read of exactly the rest succeeds with no error: io.EOF is only
		// for a short read.
		if n, err := ro.ReadAt(make([]byte, 10), size-10); n != 10 || err != nil {
			t.Errorf("ReadAt of the last 10 bytes = %d, %v; want 10, nil", n, err)
		}
		// ReadAt returns io.EOF itself, as io.ReaderAt callers compare it.
		if _, err := ro.ReadAt(make([]byte, 2), size-1); err != io.EOF {
			t.Errorf("short ReadAt error = %#v, want io.EOF itself", err)
		}
		var wErr error
		_, wErr = ro.WriteAt([]byte("XXXX"), 4990)
		apiSegErrFields(t, "WriteAt through a read-only attachment", wErr, "write", apiKey, seg.ID())
		_, rErr := rw.ReadAt(make([]byte, 1), -1)
		apiSegErrFields(t, "ReadAt at -1", rErr, "read", apiKey, seg.ID())
		o.ROUnchanged = bytes.Equal(before, ro.Bytes()) && bytes.Equal(before, rw.Bytes())

		// Zero-copy: Bytes of one attachment sees WriteAt through another,
		// and ReadAt sees writes to Bytes.
		if _, err := rw.WriteAt([]byte("zero copy"), 100); err != nil {
			t.Fatal(err)
		}
		o.ZeroCopy = string(ro.Bytes()[100:109])
		copy(rw.Bytes()[200:], "back the other way")
		o.ZeroCopyBack = apiRead(ro, 18, 200).Data

		b, err := io.ReadAll(io.NewSectionReader(ro, 0, int64(ro.Len())))
		o.SectionAll, o.SectionErr = len(b), apiErr(err)
		return o
	})
	want := outcome{RWLen: size, ROLen: size, BytesLen: size, InitiallyZero: true,
		Ops: map[string]apiIO{
			"write 4990":               {N: 10},
			"read it through ro":       {N: 10, Data: "0123456789"},
			"read across the end":      {N: 10, Err: "EOF", Data: "0123456789"},
			"read at the end":          {Err: "EOF"},
			"read nothing at the end":  {},
			"read negative":            {Err: "SegmentError read ErrOutOfRange"},
			"read past the end":        {Err: "SegmentError read ErrOutOfRange"},
			"write negative":           {Err: "SegmentError write ErrOutOfRange"},
			"write past the end":       {Err: "SegmentError write ErrOutOfRange"},
			"write across the end":     {N: 3, Err: "SegmentError write ErrShortWrite"},
			"after the short write":    {N: 10, Data: "0123456abc"},
			"write through ro":         {Err: "SegmentError write ErrReadOnly"},
			"write nothing through ro": {Err: "SegmentError write ErrReadOnly"},
			"huge offset":              {Err: "SegmentError read ErrOutOfRange"},
		},
		ROUnchanged: true, ZeroCopy: "zero copy", ZeroCopyBack: "back the other way",
		SectionAll: size, SegmentIsCreator: true}
	for name, o := range got {
		if d := cmp.Diff(want, o); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
}

// TestAPIDetach: Detach is idempotent, after it every method reports
// ErrClosed without touching the memory, and it never removes the segment.
func TestAPIDetach(t *testing.T) {
	type outcome struct {
		Detach1, Detach2 string
		Read, Write      string
		ReadN, WriteN    int
		BytesNil         bool
		Len              int
		SegmentKept      bool
		StillThere       string
		Nattch           int
		DataKept         string
		AfterRemove      string
	}
	got := each(t, func(t *testing.T, sys sysapi.Impl) outcome {
		s := shmmap.Using(sys)
		seg := apiMustCreate(t, s, apiKey, 4096, 0o600)
		a, err := seg.Attach(shmmap.AttachReadWrite)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.WriteAt([]byte("kept after detach"), 0); err != nil {
			t.Fatal(err)
		}
		var o outcome
		o.Detach1, o.Detach2 = apiErr(a.Detach()), apiErr(a.Detach())
		var err1, err2 error
		o.ReadN, err1 = a.ReadAt(make([]byte, 4), 0)
		o.WriteN, err2 = a.WriteAt([]byte("late"), 0)
		o.Read, o.Write = apiErr(err1), apiErr(err2)
		apiSegErrFields(t, "ReadAt after Detach", err1, "read", apiKey, seg.ID())
		o.BytesNil, o.Len = a.Bytes() == nil, a.Len()
		o.SegmentKept = a.Segment() == seg

		again, err := s.OpenSegment(apiKey)
		o.StillThere = apiErr(err)
		if err != nil {
			t.Fatalf("OpenSegment after every Detach: %v", err)
		}
		info, err := again.Stat()
		if err != nil {
			t.Fatal(err)
		}
		o.Nattch = info.Nattch
		b := apiMustAttach(t, again, shmmap.AttachReadOnly)
		o.DataKept = apiRead(b, 17, 0).Data
		if err := b.Detach(); err != nil {
			t.Fatal(err)
		}
		if err := again.Remove(); err != nil {
			t.Fatal(err)
		}
		_, err = s.OpenSegment(apiKey)
		o.AfterRemove = apiErr(err)
		return o
	})
	want := outcome{Read: "SegmentError read ErrClosed", Write: "SegmentError write ErrClosed",
		BytesNil: true, SegmentKept: true, DataKept: "kept after detach",
		AfterRemove: "SegmentError shmget ErrNotExist ENOENT"}
	for name, o := range got {
		if d := cmp.Diff(want, o); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
}

// TestAPIDetachRace: ReadAt, WriteAt, Len and Bytes from several
// goroutines racing with two concurrent Detach calls never crash, and
// every call either succeeds or reports ErrClosed, for good once it has.
func TestAPIDetachRace(t *testing.T) {
	const rounds, workers = 100, 6
	type outcome struct {
		Rounds       int
		ClosedSeen   int // workers that saw ErrClosed
		DetachErrors []string
		Unexpected   []string
	}
	got := each(t, func(t *testing.T, sys sysapi.Impl) outcome {
		s := shmmap.Using(sys)
		seg := apiMustCreate(t, s, apiKey, 8192, 0o600)
		o := outcome{}
		for range rounds {
			a := apiMustAttach(t, seg, shmmap.AttachReadWrite)
			var ready, done sync.WaitGroup
			var mu sync.Mutex
			note := func(msg string) {
				mu.Lock()
				o.Unexpected = append(o.Unexpected, msg)
				mu.Unlock()
			}
			closed := make(chan struct{}, workers)
			for w := range workers {
				ready.Add(1)
				done.Add(1)
				go func() {
					defer done.Done()
					buf := make([]byte, 256)
					signalled := false
					for i := 0; ; i++ {
						var err error
						switch (w + i) % 4 {
						case 0:
							_, err = a.ReadAt(buf, int64(w*256))
						case 1:
							_, err = a.WriteAt(buf, int64(w*256))
						case 2:
							if n := a.Len(); n != 8192 && n != 0 {
								note(fmt.Sprintf("Len = %d", n))
							}
						case 3:
							if b := a.Bytes(); b != nil && len(b) != 8192 {
								note(fmt.Sprintf("len(Bytes) = %d", len(b)))
							}
						}
						if !signalled {
							ready.Done()
							signalled = true
						}
						if err == nil {
							// Let the scenario's goroutine, locked to its
							// thread in the namespace, get a processor.
							runtime.Gosched()
							continue
						}
						if !errors.Is(err, shmmap.ErrClosed) {
							note(apiErr(err))
							return
						}
						// Closed for good.
						if _, err := a.ReadAt(buf, 0); !errors.Is(err, shmmap.ErrClosed) {
							note("ReadAt after ErrClosed: " + apiErr(err))
						}
						if _, err := a.WriteAt(buf, 0); !errors.Is(err, shmmap.ErrClosed) {
							note("WriteAt after ErrClosed: " + apiErr(err))
						}
						closed <- struct{}{}
						return
					}
				}()
			}
			ready.Wait()
			var dErr [2]error
			var detachers sync.WaitGroup
			for i := range dErr {
				detachers.Go(func() { dErr[i] = a.Detach() })
			}
			detachers.Wait()
			done.Wait()
			for _, err := range dErr {
				if err != nil {
					o.DetachErrors = append(o.DetachErrors, apiErr(err))
				}
			}
			o.ClosedSeen += len(closed)
			o.Rounds++
		}
		info, err := seg.Stat()
		if err != nil {
			t.Fatal(err)
		}
		if info.Nattch != 0 {
			t.Errorf("Nattch after every round = %d, want 0: a Detach was lost or doubled", info.Nattch)
		}
		return o
	})
	want := outcome{Rounds: rounds, ClosedSeen: rounds * workers}
	for name, o := range got {
		if d := cmp.Diff(want, o); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
}

// TestAPISegmentStat: Stat reports IPC_STAT as shmctl(2) documents it:
// owner and creator are the caller's effective ids, the creator's pid, the
// pid of the last attach or detach, the attachment count, and the times
// (zero until the event first happens).
func TestAPISegmentStat(t *testing.T) {
	type outcome struct {
		Key                  shmmap.Key
		IDMatches            bool
		Size                 int64
		Mode                 fs.FileMode
		Removed, Locked      bool
		Owner, Creator       [2]bool // uid, gid
		CPIDIsUs             bool
		LPIDs                []int // 0 before any attach, then ours
		Nattch               []int
		AttachTimes          []string
		DetachTimes          []string
		ChangeTimeNear       bool
		RemovedAfter         bool
		KeyAfterRemove       shmmap.Key
		FoundAfterDetach     bool
		StatAfterLastDetach  string
		CreateAgainAfterRmid bool
		WriteAfterRemove     apiIO
		ModeAfterRemove      fs.FileMode // SHM_DEST is not a permission bit
	}
	// near says whether tm is zero, or within a few seconds of now; the
	// kernel keeps seconds.
	near := func(tm time.Time) string {
		if tm.IsZero() {
			return "zero"
		}
		if d := time.Since(tm); d < -2*time.Second || d > 10*time.Second {
			return fmt.Sprintf("%v from now", -d)
		}
		return "now"
	}
	got := each(t, func(t *testing.T, sys sysapi.Impl) outcome {
		s := shmmap.Using(sys)
		seg := apiMustCreate(t, s, apiKey, 10000, 0o640)
		var o outcome
		stat := func() *shmmap.SegmentInfo {
			t.Helper()
			info, err := seg.Stat()
			if err != nil {
				t.Fatalf("Stat: %v", err)
			}
			o.LPIDs = append(o.LPIDs, info.LPID)
			o.Nattch = append(o.Nattch, info.Nattch)
			o.AttachTimes = append(o.AttachTimes, near(info.AttachTime))
			o.DetachTimes = append(o.DetachTimes, near(info.DetachTime))
			return info
		}
		info := stat()
		o.Key, o.IDMatches, o.Size, o.Mode = info.Key, info.ID == seg.ID(), info.Size, info.Mode
		o.Removed, o.Locked = info.Removed, info.Locked
		o.Owner = [2]bool{info.UID == os.Geteuid(), info.GID == os.Getegid()}
		o.Creator = [2]bool{info.CUID == os.Geteuid(), info.CGID == os.Getegid()}
		o.CPIDIsUs = info.CPID == os.Getpid()
		o.ChangeTimeNear = near(info.ChangeTime) == "now"

		a1 := apiMustAttach(t, seg, shmmap.AttachReadWrite)
		stat()
		a2 := apiMustAttach(t, seg, shmmap.AttachReadOnly)
		stat()
		if err := a1.Detach(); err != nil {
			t.Fatal(err)
		}
		stat()
		if err := a2.Detach(); err != nil {
			t.Fatal(err)
		}
		stat()

		// Remove is never implicit: the segment outlives its last Detach.
		found, err := s.OpenSegment(apiKey)
		o.FoundAfterDetach = err == nil && found.ID() == seg.ID() && found.Size() == 10000

		// Remove while attached only marks the segment; the key is free
		// at once, and the segment goes with the last Detach.
		a3 := apiMustAttach(t, seg, shmmap.AttachReadWrite)
		if err := seg.Remove(); err != nil {
			t.Fatal(err)
		}
		info = stat()
		o.RemovedAfter, o.KeyAfterRemove, o.ModeAfterRemove = info.Removed, info.Key, info.Mode
		fresh, err := s.CreateSegment(apiKey, 100, 0o600)
		o.CreateAgainAfterRmid = err == nil && fresh.ID() != seg.ID()
		o.WriteAfterRemove = apiWrite(a3, "still mapped", 0)
		if err := a3.Detach(); err != nil {
			t.Fatal(err)
		}
		_, err = seg.Stat()
		o.StatAfterLastDetach = apiErr(err)

		for i, lpid := range o.LPIDs {
			if lpid == os.Getpid() {
				o.LPIDs[i] = -1 // "us", the same for both implementations
			}
		}
		return o
	})
	us := -1
	want := outcome{Key: apiKey, IDMatches: true, Size: 10000, Mode: 0o640,
		Owner: [2]bool{true, true}, Creator: [2]bool{true, true}, CPIDIsUs: true,
		LPIDs:                []int{0, us, us, us, us, us},
		Nattch:               []int{0, 1, 2, 1, 0, 1},
		AttachTimes:          []string{"zero", "now", "now", "now", "now", "now"},
		DetachTimes:          []string{"zero", "zero", "zero", "now", "now", "now"},
		ChangeTimeNear:       true,
		RemovedAfter:         true,
		KeyAfterRemove:       shmmap.IPCPrivate,
		FoundAfterDetach:     true,
		StatAfterLastDetach:  "SegmentError shmctl IPC_STAT EINVAL",
		CreateAgainAfterRmid: true,
		WriteAfterRemove:     apiIO{N: 12},
		ModeAfterRemove:      0o640,
	}
	for name, o := range got {
		if d := cmp.Diff(want, o); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
}

// TestAPISegmentNobody: the kernel's permission checks surface as
// fs.ErrPermission. An unprivileged user finds root's 0600 segment by key
// (shmget with no permission bits asked) but may not stat, attach or
// remove it; a 0644 segment it may attach read-only only.
func TestAPISegmentNobody(t *testing.T) {
	shmtest.RequireRoot(t)
	type outcome map[string]string
	got := each(t, func(t *testing.T, sys sysapi.Impl) outcome {
		s := shmmap.Using(sys)
		private := apiMustCreate(t, s, apiKey, 4096, 0o600)
		shared := apiMustCreate(t, s, apiKey+1, 4096, 0o644)
		a := apiMustAttach(t, shared, shmmap.AttachReadWrite)
		if _, err := a.WriteAt([]byte("readable by all"), 0); err != nil {
			t.Fatal(err)
		}
		o := outcome{}
		shmtest.DoUnprivileged(t, func() {
			seg, err := s.OpenSegment(apiKey)
			o["open 0600"] = apiErr(err)
			if err != nil {
				return
			}
			o["size of 0600"] = fmt.Sprint(seg.Size())
			_, err = seg.Attach(shmmap.AttachReadOnly)
			o["attach 0600 read-only"] = apiErr(err)
			_, err = seg.Attach(shmmap.AttachReadWrite)
			o["attach 0600 read-write"] = apiErr(err)
			_, err = seg.Stat()
			o["stat 0600"] = apiErr(err)
			o["remove 0600"] = apiErr(seg.Remove())
			_, err = s.OpenSegmentID(private.ID())
			o["open 0600 by id"] = apiErr(err)

			sh, err := s.OpenSegment(apiKey + 1)
			o["open 0644"] = apiErr(err)
			if err != nil {
				return
			}
			o["size of 0644"] = fmt.Sprint(sh.Size())
			_, err = sh.Attach(shmmap.AttachReadWrite)
			o["attach 0644 read-write"] = apiErr(err)
			ro, err := sh.Attach(shmmap.AttachReadOnly)
			o["attach 0644 read-only"] = apiErr(err)
			if err == nil {
				o["read 0644"] = apiRead(ro, 15, 0).Data
				o["detach 0644"] = apiErr(ro.Detach())
			}
		})
		// Nothing the unprivileged user did removed anything.
		info, err := private.Stat()
		o["0600 after"] = apiErr(err)
		if err == nil && info.Removed {
			o["0600 after"] = "removed"
		}
		return o
	})
	perm := func(op, errno string) string { return "SegmentError " + op + " ErrPermission " + errno }
	want := outcome{
		"open 0600":              "",
		"size of 0600":           "-1", // IPC_STAT is denied: size unknown
		"attach 0600 read-only":  perm("shmat", "EACCES"),
		"attach 0600 read-write": perm("shmat", "EACCES"),
		"stat 0600":              perm("shmctl IPC_STAT", "EACCES"),
		"remove 0600":            perm("shmctl IPC_RMID", "EPERM"),
		"open 0600 by id":        perm("shmctl IPC_STAT", "EACCES"),
		"open 0644":              "",
		"size of 0644":           "4096",
		"attach 0644 read-write": perm("shmat", "EACCES"),
		"attach 0644 read-only":  "",
		"read 0644":              "readable by all",
		"detach 0644":            "",
		"0600 after":             "",
	}
	for name, o := range got {
		if d := cmp.Diff(want, o); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
}

// TestAPIFtok: Ftok through the API is the implementation's ftok(3), which
// is glibc's formula over stat(2): (st_ino & 0xffff) | (st_dev & 0xff) <<
// 16 | (proj & 0xff) << 24 as a signed 32-bit key_t. Errors are
// *fs.PathError naming the path.
func TestAPIFtok(t *testing.T) {
	dir := t.TempDir() // shared by both runs: the keys depend on the inodes
	var paths []string
	for i := range 8 {
		p := filepath.Join(dir, fmt.Sprintf("key-%d", i))
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	paths = append(paths, dir, "/", "/dev/null", "/etc/passwd")
	// Every project id whose low byte matters, the high ones (a negative
	// key_t) included, and ids whose higher bits must be ignored.
	projs := []int{-1, -0x80, 0x1234, 0x7fffffff}
	for p := range 0x200 {
		projs = append(projs, p)
	}

	// The key each path must give, computed from stat(2) as glibc does.
	type pp struct {
		path string
		proj int
	}
	formula := map[pp]shmmap.Key{}
	for _, p := range paths {
		var st unix.Stat_t
		if err := unix.Stat(p, &st); err != nil {
			t.Fatalf("stat %s: %v", p, err)
		}
		for _, proj := range projs {
			formula[pp{p, proj}] = shmmap.Key(int32(uint32(st.Ino&0xffff) | uint32(st.Dev&0xff)<<16 | uint32(proj&0xff)<<24))
		}
	}
	bad := map[string]string{
		filepath.Join(dir, "missing"):           "PathError ftok ErrNotExist ENOENT",
		filepath.Join(paths[0], "below a file"): "PathError ftok ENOTDIR",
		"":                                      "PathError ftok ErrNotExist ENOENT",
		filepath.Join(dir, strings.Repeat("n", 300)): "PathError ftok ENAMETOOLONG",
	}

	type result struct {
		Key    shmmap.Key
		String string
		Err    string
	}
	each(t, func(t *testing.T, sys sysapi.Impl) map[string]result {
		s := shmmap.Using(sys)
		out := map[string]result{}
		for _, p := range paths {
			for _, proj := range projs {
				k, err := s.Ftok(p, proj)
				raw, rerr := sys.Ftok(p, proj)
				if err != nil || rerr != nil || k != shmmap.Key(raw) {
					t.Errorf("Ftok(%q, %#x) = %v, %v; %s's ftok gives %#x, %v", p, proj, k, err, sys.Name, raw, rerr)
				}
				if want := formula[pp{p, proj}]; k != want {
					t.Errorf("Ftok(%q, %#x) = %v; glibc's formula gives %v", p, proj, k, want)
				}
				if (k < 0) != (proj&0x80 != 0) {
					t.Errorf("Ftok(%q, %#x) = %v: the key must be negative exactly when proj&0x80 is set", p, proj, k)
				}
				if want := fmt.Sprintf("0x%08x", uint32(k)); k.String() != want {
					t.Errorf("Key(%d).String() = %q, want %q", int32(k), k.String(), want)
				}
				out[fmt.Sprintf("%s proj %#x", p, proj)] = result{Key: k, String: k.String()}
			}
		}
		for p, want := range bad {
			k, err := s.Ftok(p, 'A')
			if got := apiErr(err); got != want {
				t.Errorf("Ftok(%q) error = %q, want %q", p, got, want)
			}
			var pe *fs.PathError
			if !errors.As(err, &pe) || pe.Path != p {
				t.Errorf("Ftok(%q) error %v does not name the path", p, err)
			}
			if k != 0 {
				t.Errorf("Ftok(%q) failed but returned the key %v", p, k)
			}
			out[fmt.Sprintf("%q", p)] = result{Key: k, Err: apiErr(err)}
		}
		return out
	})

	// The package-level Ftok is the default implementation's.
	for _, p := range paths {
		for _, proj := range projs {
			k, err := shmmap.Ftok(p, proj)
			raw, rerr := shmmap.Default.Impl().Ftok(p, proj)
			if err != nil || rerr != nil || k != shmmap.Key(raw) || k != formula[pp{p, proj}] {
				t.Errorf("shmmap.Ftok(%q, %#x) = %v, %v; default ftok %#x, %v; formula %v", p, proj, k, err, raw, rerr, formula[pp{p, proj}])
			}
		}
	}
	for p, want := range bad {
		if _, err := shmmap.Ftok(p, 1); apiErr(err) != want {
			t.Errorf("shmmap.Ftok(%q): %v, want %s", p, err, want)
		}
	}
}

// TestAPIKeyString: keys print as ipcs(1) prints them, the 32 bits in
// eight hex digits.
func TestAPIKeyString(t *testing.T) {
	for _, c := range []struct {
		k    shmmap.Key
		want string
	}{
		{0, "0x00000000"}, {0x1234, "0x00001234"}, {0x7fffffff, "0x7fffffff"},
		{-1, "0xffffffff"}, {math.MinInt32, "0x80000000"}, {-0x7edcba99, "0x81234567"},
	} {
		if got := c.k.String(); got != c.want {
			t.Errorf("Key(%d).String() = %q, want %q", int32(c.k), got, c.want)
		}
		if got := fmt.Sprint(c.k); got != c.want {
			t.Errorf("fmt.Sprint(Key(%d)) = %q, want %q", int32(c.k), got, c.want)
		}
		if got := fmt.Sprintf("0x%08x", uint32(c.k)); got != c.want {
			t.Errorf("0x%%08x of uint32(%d) = %q, want %q", int32(c.k), got, c.want)
		}
	}
}
