package shmmap_test

// Tests of StructAt: what it refuses (every kind that holds a Go pointer,
// directly, in a struct and in an array; offsets out of range, overflowing
// or misaligned), what it accepts (atomic fields in a real segment and a
// real file mapping, seen through ReadAt and the file), and C and Go
// counting on the same field at the same time: testdata/structat/counter.c,
// built 64-bit and, where gcc and the kernel allow, 32-bit (-m32), against
// this test binary, whatever its GOARCH. The C side reports its struct
// layout and the Go side must match it; its counts are the expected values.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/shmtest"
	"golang.org/x/sys/unix"
)

// structAtPage maps n anonymous shared bytes (page-aligned) for the life
// of the test.
func structAtPage(t testing.TB, n int) []byte {
	t.Helper()
	mem, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatalf("mmap %d anonymous bytes: %v", n, err)
	}
	t.Cleanup(func() { unix.Munmap(mem) })
	return mem
}

// structAtRefusal is one type StructAt must refuse: check calls StructAt
// with it over good memory and returns the error.
type structAtRefusal struct {
	name  string
	check func(mem []byte) (any, error)
	want  string // what follows "shmmap.StructAt[TYPE]: ": the field and its kind
	why   string // a phrase of the reason, which follows want after ": "
}

// refuse builds a structAtRefusal for T.
func refuse[T any](name, want, why string) structAtRefusal {
	return structAtRefusal{name, func(mem []byte) (any, error) { return shmmap.StructAt[T](mem, 0) }, want, why}
}

// Types for the refusals, one forbidden kind each in a field, nested in a
// struct and in an array of structs.
type (
	saPtr    struct{ F *int }
	saUnsafe struct{ F unsafe.Pointer }
	saString struct{ F string }
	saSlice  struct{ F []byte }
	saMap    struct{ F map[int]int }
	saIface  struct{ F any }
	saError  struct{ F error }
	saChan   struct{ F chan int }
	saFunc   struct{ F func() }
	saAPtr   struct{ F atomic.Pointer[int] }
	saAValue struct{ F atomic.Value }
	saMutex  struct{ F sync.Mutex }
	saRW     struct{ F sync.RWMutex }
	saWG     struct{ F sync.WaitGroup }
	saOnce   struct{ F sync.Once }

	saNested[T any] struct {
		A     uint32
		Inner struct {
			B uint64
			X T
		}
	}
	saInArray[T any] struct {
		N    uint32
		Recs [3]struct {
			ID uint32
			X  T
		}
	}
	saZeroArray struct {
		N    uint32
		None [0]string
	}
	saEmbedded struct {
		saString
	}
)

func TestStructAtRefusesPointerTypes(t *testing.T) {
	// The reason that follows each of these is the implementation's
	// wording: a test asserts only that one follows, and its gist.
	const ptrs = "Go pointers"
	const syncWhy = "across processes"
	cases := []structAtRefusal{
		refuse[saPtr]("pointer", "field F is a pointer (*int)", ptrs),
		refuse[saUnsafe]("unsafe.Pointer", "field F is an unsafe.Pointer", ptrs),
		refuse[saString]("string", "field F is a string", ptrs),
		refuse[saSlice]("slice", "field F is a slice ([]uint8)", ptrs),
		refuse[saMap]("map", "field F is a map (map[int]int)", ptrs),
		refuse[saIface]("interface", "field F is an interface (interface {})", ptrs),
		refuse[saError]("error", "field F is an interface (error)", ptrs),
		refuse[saChan]("chan", "field F is a channel (chan int)", ptrs),
		refuse[saFunc]("func", "field F is a func (func())", ptrs),
		refuse[saAPtr]("atomic.Pointer", "field F is a sync/atomic.Pointer[int]", "holds a pointer"),
		refuse[saAValue]("atomic.Value", "field F is a sync/atomic.Value", "holds an interface"),
		refuse[saMutex]("sync.Mutex", "field F is a sync.Mutex", syncWhy),
		refuse[saRW]("sync.RWMutex", "field F is a sync.RWMutex", syncWhy),
		refuse[saWG]("sync.WaitGroup", "field F is a sync.WaitGroup", syncWhy),
		refuse[saOnce]("sync.Once", "field F is a sync.Once", syncWhy),

		refuse[saNested[*int]]("nested pointer", "field Inner.X is a pointer (*int)", ptrs),
		refuse[saNested[unsafe.Pointer]]("nested unsafe.Pointer", "field Inner.X is an unsafe.Pointer", ptrs),
		refuse[saNested[string]]("nested string", "field Inner.X is a string", ptrs),
		refuse[saNested[[]int]]("nested slice", "field Inner.X is a slice ([]int)", ptrs),
		refuse[saNested[map[string]bool]]("nested map", "field Inner.X is a map (map[string]bool)", ptrs),
		refuse[saNested[any]]("nested interface", "field Inner.X is an interface (interface {})", ptrs),
		refuse[saNested[<-chan int]]("nested chan", "field Inner.X is a channel (<-chan int)", ptrs),
		refuse[saNested[func(int) int]]("nested func", "field Inner.X is a func (func(int) int)", ptrs),
		refuse[saNested[atomic.Pointer[byte]]]("nested atomic.Pointer", "field Inner.X is a sync/atomic.Pointer[uint8]", "holds a pointer"),
		refuse[saNested[atomic.Value]]("nested atomic.Value", "field Inner.X is a sync/atomic.Value", "holds an interface"),
		refuse[saNested[sync.Mutex]]("nested sync.Mutex", "field Inner.X is a sync.Mutex", syncWhy),

		refuse[saInArray[*int]]("pointer in array", "field Recs[].X is a pointer (*int)", ptrs),
		refuse[saInArray[unsafe.Pointer]]("unsafe.Pointer in array", "field Recs[].X is an unsafe.Pointer", ptrs),
		refuse[saInArray[string]]("string in array", "field Recs[].X is a string", ptrs),
		refuse[saInArray[[]int]]("slice in array", "field Recs[].X is a slice ([]int)", ptrs),
		refuse[saInArray[map[int]int]]("map in array", "field Recs[].X is a map (map[int]int)", ptrs),
		refuse[saInArray[error]]("interface in array", "field Recs[].X is an interface (error)", ptrs),
		refuse[saInArray[chan struct{}]]("chan in array", "field Recs[].X is a channel (chan struct {})", ptrs),
		refuse[saInArray[func()]]("func in array", "field Recs[].X is a func (func())", ptrs),
		refuse[saInArray[atomic.Pointer[int]]]("atomic.Pointer in array", "field Recs[].X is a sync/atomic.Pointer[int]", "holds a pointer"),
		refuse[saInArray[atomic.Value]]("atomic.Value in array", "field Recs[].X is a sync/atomic.Value", "holds an interface"),
		refuse[saInArray[sync.Mutex]]("sync.Mutex in array", "field Recs[].X is a sync.Mutex", syncWhy),
		refuse[saInArray[[2][]byte]]("slice in array in array", "field Recs[].X[] is a slice ([]uint8)", ptrs),

		refuse[*int]("top-level pointer", "the type is a pointer (*int)", ptrs),
		refuse[string]("top-level string", "the type is a string", ptrs),
		refuse[any]("top-level interface", "the type is an interface (interface {})", ptrs),
		refuse[map[string]int]("top-level map", "the type is a map (map[string]int)", ptrs),
		refuse[[4]string]("top-level array of strings", "element [] is a string", ptrs),
		refuse[[2]saString]("top-level array of structs", "element [].F is a string", ptrs),
		refuse[atomic.Value]("top-level atomic.Value", "the type is a sync/atomic.Value", "holds an interface"),
		refuse[saZeroArray]("zero-length array of strings", "field None[] is a string", ptrs),
		refuse[saEmbedded]("embedded struct", "field saString.F is a string", ptrs),
	}
	mem := structAtPage(t, 4096)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// twice: the second answer comes from the cache
			for range 2 {
				p, err := c.check(mem)
				if err == nil {
					t.Fatalf("StructAt accepted it: %p", p)
				}
				msg := err.Error()
				prefix, rest, ok := strings.Cut(msg, "]: ")
				if !ok || !strings.HasPrefix(prefix, "shmmap.StructAt[") {
					t.Fatalf("error %q does not start with shmmap.StructAt[TYPE]: ", msg)
				}
				reason, ok := strings.CutPrefix(rest, c.want+": ")
				if !ok || !strings.Contains(reason, c.why) {
					t.Errorf("error after the type:\n got %q\nwant %q, then a reason mentioning %q", rest, c.want, c.why)
				}
				if !errors.Is(err, unix.EINVAL) {
					t.Errorf("errors.Is(%v, EINVAL) = false", err)
				}
				if errors.Is(err, shmmap.ErrOutOfRange) {
					t.Errorf("errors.Is(%v, ErrOutOfRange) = true for a type error", err)
				}
			}
		})
	}
	// The type is named as Go spells it.
	_, err := shmmap.StructAt[saInArray[string]](mem, 0)
	if want := "shmmap.StructAt[shmmap_test.saInArray[string]]: "; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %v, want it to start with %q", err, want)
	}
	// A type is refused whatever the memory, even none.
	if _, err := shmmap.StructAt[saString](nil, -1); err == nil || !strings.Contains(err.Error(), "is a string") {
		t.Errorf("StructAt[saString](nil, -1) = %v, want the type refused first", err)
	}
}

// Types StructAt accepts: every plain kind and the sync/atomic integers, in
// structs and arrays, and zero-size types.
type (
	saAllPlain struct {
		B    bool
		I    int
		I8   int8
		I16  int16
		I32  int32
		I64  int64
		U    uint
		U8   uint8
		U16  uint16
		U32  uint32
		U64  uint64
		UP   uintptr
		F32  float32
		F64  float64
		C64  complex64
		C128 complex128
		Arr  [3][2]uint16
		S    struct{ X, Y int32 }
		E    struct{}
		Z    [0]uint64
	}
	saAtomics struct {
		I32 atomic.Int32
		I64 atomic.Int64
		U32 atomic.Uint32
		U64 atomic.Uint64
		UP  atomic.Uintptr
		B   atomic.Bool
		Arr [4]atomic.Uint64
	}
	saNamedInt  int64
	saWithNamed struct {
		N saNamedInt
		A [2]saAtomics
	}
)

func TestStructAtAccepts(t *testing.T) {
	mem := structAtPage(t, 4096)
	check := func(name string, p unsafe.Pointer, err error, off int) {
		t.Helper()
		if err != nil {
			t.Errorf("%s at %d: %v", name, off, err)
			return
		}
		if p != unsafe.Pointer(&mem[off]) {
			t.Errorf("%s at %d: pointer %p, want &mem[%d] = %p", name, off, p, off, &mem[off])
		}
	}
	p1, err := shmmap.StructAt[saAllPlain](mem, 64)
	check("saAllPlain", unsafe.Pointer(p1), err, 64)
	p2, err := shmmap.StructAt[saAtomics](mem, 128)
	check("saAtomics", unsafe.Pointer(p2), err, 128)
	p3, err := shmmap.StructAt[saWithNamed](mem, 256)
	check("saWithNamed", unsafe.Pointer(p3), err, 256)
	p4, err := shmmap.StructAt[uint32](mem, 4092)
	check("uint32 at the very end", unsafe.Pointer(p4), err, 4092)
	p5, err := shmmap.StructAt[[4096]byte](mem, 0)
	check("[4096]byte, all of it", unsafe.Pointer(p5), err, 0)
	p6, err := shmmap.StructAt[atomic.Uint64](mem, 8)
	check("atomic.Uint64", unsafe.Pointer(p6), err, 8)

	// Zero-size types: anywhere inside the memory, never past it.
	p7, err := shmmap.StructAt[struct{}](mem, 4095)
	check("struct{} at the last byte", unsafe.Pointer(p7), err, 4095)
	p8, err := shmmap.StructAt[[0]uint64](mem, 4088)
	check("[0]uint64", unsafe.Pointer(p8), err, 4088)
	if _, err := shmmap.StructAt[struct{}](mem, 4096); !errors.Is(err, shmmap.ErrOutOfRange) {
		t.Errorf("struct{} at len(mem): %v, want ErrOutOfRange", err)
	}
	if _, err := shmmap.StructAt[struct{}](nil, 0); !errors.Is(err, shmmap.ErrOutOfRange) {
		t.Errorf("struct{} on nil memory: %v, want ErrOutOfRange", err)
	}

	// The pointer is the memory: a store through it is in mem.
	p6.Store(0x0102030405060708)
	if got := binary.NativeEndian.Uint64(mem[8:]); got != 0x0102030405060708 {
		t.Errorf("mem[8:16] after Store = %#x", got)
	}
}

// saRange is the type of the range tests: 24 bytes, 8-aligned everywhere.
type saRange struct {
	A atomic.Uint32
	B atomic.Uint64
	C [3]byte
}

func TestStructAtRefusesOffsets(t *testing.T) {
	mem := structAtPage(t, 4096)
	size := int(unsafe.Sizeof(saRange{}))
	align := int(unsafe.Alignof(saRange{}))
	if align != 8 {
		t.Fatalf("saRange is %d-aligned; this test wants an 8-aligned type", align)
	}
	cases := []struct {
		name       string
		mem        []byte
		off        int
		outOfRange bool // else misaligned
		reason     string
	}{
		{"negative", mem, -1, true, "offset -1 is outside the memory (4096 bytes)"},
		{"MinInt", mem, math.MinInt, true, fmt.Sprintf("offset %d is outside the memory (4096 bytes)", math.MinInt)},
		{"at the end", mem, 4096, true, "offset 4096 is outside the memory (4096 bytes)"},
		{"one byte short", mem, 4096 - size + 1, true, fmt.Sprintf("%d bytes at offset %d do not fit in the memory (4096 bytes)", size, 4096-size+1)},
		{"short and aligned", mem, 4096 - 16, true, fmt.Sprintf("%d bytes at offset 4080 do not fit in the memory (4096 bytes)", size)},
		{"MaxInt", mem, math.MaxInt, true, fmt.Sprintf("offset %d is outside the memory (4096 bytes)", math.MaxInt)},
		{"MaxInt-7", mem, math.MaxInt - 7, true, fmt.Sprintf("offset %d is outside the memory (4096 bytes)", math.MaxInt-7)},
		{"nil", nil, 0, true, "offset 0: the memory is empty"},
		{"empty", mem[:0], 0, true, "offset 0: the memory is empty"},
		{"empty, negative", mem[:0], -8, true, "offset -8: the memory is empty"},
		{"too small", mem[:size-1], 0, true, fmt.Sprintf("%d bytes at offset 0 do not fit in the memory (%d bytes)", size, size-1)},
		{"misaligned by 4", mem, 4, false, ""},
		{"misaligned by 1", mem, 1, false, ""},
		{"misaligned by 7", mem, 4095 - size, false, ""},
		// The address counts, not the offset: mem[4:] at offset 0 is at an
		// address 4 past a page boundary.
		{"aligned offset, misaligned address", mem[4:], 0, false, ""},
		{"aligned offset 8, misaligned address", mem[1:], 8, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := shmmap.StructAt[saRange](c.mem, c.off)
			if err == nil {
				t.Fatalf("StructAt(len %d, off %d) = %p, want an error", len(c.mem), c.off, p)
			}
			if p != nil {
				t.Errorf("pointer %p with the error", p)
			}
			if !errors.Is(err, unix.EINVAL) {
				t.Errorf("errors.Is(%v, EINVAL) = false", err)
			}
			if got := errors.Is(err, shmmap.ErrOutOfRange); got != c.outOfRange {
				t.Errorf("errors.Is(%v, ErrOutOfRange) = %v, want %v", err, got, c.outOfRange)
			}
			prefix := "shmmap.StructAt[shmmap_test.saRange]: "
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("error %q does not start with %q", err, prefix)
			}
			if c.outOfRange {
				if got := strings.TrimPrefix(err.Error(), prefix); got != c.reason {
					t.Errorf("reason\n got %q\nwant %q", got, c.reason)
				}
			} else {
				addr := uintptr(unsafe.Pointer(unsafe.SliceData(c.mem))) + uintptr(c.off)
				want := fmt.Sprintf("offset %d (address %#x) is not aligned to 8 bytes", c.off, addr)
				if got := strings.TrimPrefix(err.Error(), prefix); got != want {
					t.Errorf("reason\n got %q\nwant %q", got, want)
				}
			}
		})
	}
	// The address counts the other way too: mem[4:] at offset 4 is at an
	// 8-aligned address, so it is accepted.
	if p, err := shmmap.StructAt[saRange](mem[4:], 4); err != nil || unsafe.Pointer(p) != unsafe.Pointer(&mem[8]) {
		t.Errorf("StructAt(mem[4:], 4) = %p, %v; want &mem[8] = %p", p, err, &mem[8])
	}
	// A type much larger than the memory, with an offset that would make
	// off+size overflow a 32-bit int.
	if _, err := shmmap.StructAt[[1 << 30]byte](mem, 8); !errors.Is(err, shmmap.ErrOutOfRange) {
		t.Errorf("StructAt[[1<<30]byte](mem, 8) = %v, want ErrOutOfRange", err)
	}
	if _, err := shmmap.StructAt[[1 << 30]byte](mem, 4095); !errors.Is(err, shmmap.ErrOutOfRange) {
		t.Errorf("StructAt[[1<<30]byte](mem, 4095) = %v, want ErrOutOfRange", err)
	}
}

// FuzzStructAt checks every (shift, length, offset) against arithmetic
// done here: StructAt succeeds exactly when the offset is inside the
// memory, the type fits, and the address is aligned, and the pointer is
// then &mem[off]; it fails with the matching sentinels otherwise, and never
// panics.
func FuzzStructAt(f *testing.F) {
	const region = 8192
	page := structAtPage(f, region)
	for _, seed := range [][3]int{
		{0, 4096, 0}, {0, 4096, 8}, {0, 4096, 4}, {0, 4096, -1}, {0, 4096, 4072},
		{0, 4096, 4073}, {0, 4096, 4096}, {0, 0, 0}, {1, 100, 7}, {4, 4096, 4},
		{3, 24, 5}, {0, 24, 0}, {0, 23, 0}, {0, 4096, math.MaxInt}, {0, 4096, math.MinInt},
		{0, 4096, math.MaxInt - 20}, {15, 8000, 4001},
	} {
		f.Add(uint8(seed[0]), seed[1], seed[2])
	}
	size := int(unsafe.Sizeof(saRange{}))
	align := uintptr(unsafe.Alignof(saRange{}))
	f.Fuzz(func(t *testing.T, shift uint8, length, off int) {
		s := int(shift) % 16
		if length < 0 {
			length = -length
		}
		if length < 0 { // MinInt
			length = 0
		}
		length %= region - s + 1
		mem := page[s : s+length]
		p, err := shmmap.StructAt[saRange](mem, off)
		inside := off >= 0 && off < length
		fits := inside && length-off >= size
		aligned := fits && (uintptr(unsafe.Pointer(&page[0]))+uintptr(s)+uintptr(off))%align == 0
		switch {
		case !inside || !fits:
			if !errors.Is(err, shmmap.ErrOutOfRange) || !errors.Is(err, unix.EINVAL) {
				t.Fatalf("len %d off %d: %v, want ErrOutOfRange and EINVAL", length, off, err)
			}
		case !aligned:
			if errors.Is(err, shmmap.ErrOutOfRange) || !errors.Is(err, unix.EINVAL) {
				t.Fatalf("len %d off %d (shift %d): %v, want EINVAL only", length, off, s, err)
			}
		default:
			if err != nil {
				t.Fatalf("len %d off %d (shift %d): %v", length, off, s, err)
			}
			if unsafe.Pointer(p) != unsafe.Pointer(&mem[off]) {
				t.Fatalf("len %d off %d: pointer %p, want %p", length, off, p, &mem[off])
			}
			return
		}
		if p != nil {
			t.Fatalf("len %d off %d: pointer %p with error %v", length, off, p, err)
		}
	})
}

// saStats is the acceptance tests' type: atomics of every width, an array
// of atomics and plain fields.
type saStats struct {
	Flags atomic.Uint32
	Count atomic.Uint64
	Hist  [4]atomic.Int32
	Temp  float64
	Name  [8]byte
}

// writeStats stores known values through s.
func writeStats(s *saStats) {
	s.Flags.Store(0xa5a5)
	for range 1000 {
		s.Count.Add(3)
	}
	for i := range s.Hist {
		s.Hist[i].Add(int32(-10 * (i + 1)))
	}
	s.Temp = 21.5
	copy(s.Name[:], "shmmap!")
}

// checkStatsBytes checks the bytes of a saStats written by writeStats,
// decoded field by field at the offsets Go gives them.
func checkStatsBytes(t *testing.T, b []byte) {
	t.Helper()
	var s saStats
	ne := binary.NativeEndian
	if got := ne.Uint32(b[unsafe.Offsetof(s.Flags):]); got != 0xa5a5 {
		t.Errorf("Flags bytes = %#x, want 0xa5a5", got)
	}
	if got := ne.Uint64(b[unsafe.Offsetof(s.Count):]); got != 3000 {
		t.Errorf("Count bytes = %d, want 3000", got)
	}
	for i := range s.Hist {
		off := unsafe.Offsetof(s.Hist) + uintptr(i)*unsafe.Sizeof(s.Hist[0])
		if got := int32(ne.Uint32(b[off:])); got != int32(-10*(i+1)) {
			t.Errorf("Hist[%d] bytes = %d, want %d", i, got, -10*(i+1))
		}
	}
	if got := math.Float64frombits(ne.Uint64(b[unsafe.Offsetof(s.Temp):])); got != 21.5 {
		t.Errorf("Temp bytes = %v, want 21.5", got)
	}
	if got := string(b[unsafe.Offsetof(s.Name):][:8]); got != "shmmap!\x00" {
		t.Errorf("Name bytes = %q", got)
	}
}

func TestStructAtAttachment(t *testing.T) {
	seg, err := shmmap.CreateSegment(shmmap.IPCPrivate, 4096, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { seg.Remove() })
	shm, err := seg.Attach(shmmap.AttachReadWrite)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shm.Detach() })
	other, err := seg.Attach(shmmap.AttachReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Detach() })

	const off = 512
	s, err := shmmap.StructAt[saStats](shm.Bytes(), off)
	if err != nil {
		t.Fatal(err)
	}
	writeStats(s)

	// Written through: ReadAt of the same attachment and of another one
	// (at another address) sees the bytes.
	for _, a := range []*shmmap.Attachment{shm, other} {
		b := make([]byte, unsafe.Sizeof(saStats{}))
		if _, err := a.ReadAt(b, off); err != nil {
			t.Fatal(err)
		}
		checkStatsBytes(t, b)
	}
	// And the other way: WriteAt into the segment is seen through the
	// struct of the read-only attachment.
	ro, err := shmmap.StructAt[saStats](other.Bytes(), off)
	if err != nil {
		t.Fatal(err)
	}
	var cnt [8]byte
	binary.NativeEndian.PutUint64(cnt[:], 123456789)
	if _, err := shm.WriteAt(cnt[:], off+int64(unsafe.Offsetof(s.Count))); err != nil {
		t.Fatal(err)
	}
	if got := ro.Count.Load(); got != 123456789 {
		t.Errorf("Count through the read-only attachment = %d, want 123456789", got)
	}

	// After Detach, Bytes is nil and StructAt refuses it.
	if err := other.Detach(); err != nil {
		t.Fatal(err)
	}
	if p, err := shmmap.StructAt[saStats](other.Bytes(), off); !errors.Is(err, shmmap.ErrOutOfRange) {
		t.Errorf("StructAt on a detached attachment's Bytes = %p, %v; want ErrOutOfRange", p, err)
	}
}

func TestStructAtMapping(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stats")
	if err := os.WriteFile(path, make([]byte, 8192), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := shmmap.MapFile(path, shmmap.MapShared)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	const off = 4096 + 64
	s, err := shmmap.StructAt[saStats](m.Bytes(), off)
	if err != nil {
		t.Fatal(err)
	}
	writeStats(s)
	b := make([]byte, unsafe.Sizeof(saStats{}))
	if _, err := m.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	checkStatsBytes(t, b)
	// The file itself, read with read(2), has the bytes.
	if err := m.Sync(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkStatsBytes(t, file[off:])
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := shmmap.StructAt[saStats](m.Bytes(), off); !errors.Is(err, shmmap.ErrOutOfRange) {
		t.Errorf("StructAt on a closed mapping's Bytes: %v, want ErrOutOfRange", err)
	}
}

// structAtShared is testdata/structat/shared.h's struct structat_shared.
type structAtShared struct {
	Done    atomic.Uint32
	Start   atomic.Uint32
	Counter atomic.Uint64
	Plain   uint64
}

// The 32-bit subtlety the header measures: a plain 64-bit field after a
// 32-bit one, and an atomic one.
type (
	structAtPlain64 struct {
		A uint32
		B uint64
	}
	structAtAtomic64 struct {
		A uint32
		B atomic.Uint64
	}
)

// goStructAtLayout is this binary's layout of the header's structs, keyed
// as counter.c prints them.
func goStructAtLayout() map[string]int {
	var s structAtShared
	var p structAtPlain64
	var a structAtAtomic64
	return map[string]int{
		"ptr":            int(unsafe.Sizeof(uintptr(0))),
		"shared.size":    int(unsafe.Sizeof(s)),
		"shared.align":   int(unsafe.Alignof(s)),
		"shared.done":    int(unsafe.Offsetof(s.Done)),
		"shared.start":   int(unsafe.Offsetof(s.Start)),
		"shared.counter": int(unsafe.Offsetof(s.Counter)),
		"shared.plain":   int(unsafe.Offsetof(s.Plain)),
		"plain64.size":   int(unsafe.Sizeof(p)),
		"plain64.align":  int(unsafe.Alignof(p)),
		"plain64.b":      int(unsafe.Offsetof(p.B)),
		"atomic64.size":  int(unsafe.Sizeof(a)),
		"atomic64.align": int(unsafe.Alignof(a)),
		"atomic64.b":     int(unsafe.Offsetof(a.B)),
	}
}

// parseStructAtLayout parses counter.c's "layout k=v ..." line.
func parseStructAtLayout(line string) (map[string]int, error) {
	fields := strings.Fields(line)
	if len(fields) == 0 || fields[0] != "layout" {
		return nil, fmt.Errorf("not a layout line: %q", line)
	}
	m := map[string]int{}
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil {
			return nil, fmt.Errorf("bad field %q in %q", f, line)
		}
		m[k] = n
	}
	return m, nil
}

// checkStructAtLayout compares the C peer's layout with this binary's. The
// shared struct must match whatever the two ABIs; the plain 64-bit one
// matches only between equal ABIs, and on a 32-bit side it must differ
// from the atomic one (the subtlety StructAt's documentation states).
func checkStructAtLayout(t *testing.T, c map[string]int) {
	t.Helper()
	g := goStructAtLayout()
	t.Logf("C layout:  %v", fmtStructAtLayout(c))
	t.Logf("Go layout: %v", fmtStructAtLayout(g))
	hint := ""
	if c["ptr"] == 4 {
		hint = " (an i386 GCC older than 11.1 4-aligns _Atomic uint64_t)"
	}
	keys := make([]string, 0, len(g))
	for k := range g {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		gv := g[k]
		cv, ok := c[k]
		if !ok {
			t.Fatalf("the C peer did not report %s", k)
		}
		if k == "ptr" || strings.HasPrefix(k, "plain64.") && c["ptr"] != g["ptr"] {
			continue
		}
		if cv != gv {
			t.Errorf("%s: C %d, Go %d: the Go struct does not match testdata/structat/shared.h%s", k, cv, gv, hint)
		}
	}
	for side, l := range map[string]map[string]int{"C": c, "Go": g} {
		if l["ptr"] == 4 && l["plain64.b"] == l["atomic64.b"] {
			t.Errorf("%s (32-bit): the plain uint64 is at %d like the atomic one; StructAt's doc says it is 4-aligned there", side, l["plain64.b"])
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

func fmtStructAtLayout(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%d", k, m[k])
	}
	return b.String()[1:]
}

// structAtPeerTimeout bounds the wait for one line of the C peer, so a
// wedged peer fails the test instead of hanging it.
const structAtPeerTimeout = 60 * time.Second

// expectStructAtLine returns the peer's next line, which must start with
// prefix.
func expectStructAtLine(t *testing.T, peer *shmtest.Process, prefix string) string {
	t.Helper()
	line := peer.WaitLine(t, "", structAtPeerTimeout)
	if !strings.HasPrefix(line, prefix) {
		t.Fatalf("the C peer said %q, want %q...", line, prefix)
	}
	return line
}

// buildStructAtPeer builds counter.c with the extra compiler flags (such as
// -m32), and checks that it runs by asking for its layout, which it
// returns. With -m32 it skips the test, saying why, where the compiler
// cannot build 32-bit programs or the kernel cannot run them.
func buildStructAtPeer(t *testing.T, flags ...string) (string, map[string]int) {
	t.Helper()
	if slices.Contains(flags, "-m32") {
		shmtest.Require32(t)
	}
	bin := shmtest.BuildC(t, "testdata/structat/counter.c", flags...)
	res := shmtest.Run(t, exec.Command(bin, "layout"))
	if res.Status != 0 {
		t.Fatalf("%s layout: %+v", bin, res)
	}
	l, err := parseStructAtLayout(strings.TrimSpace(res.Stdout))
	if err != nil {
		t.Fatal(err)
	}
	return bin, l
}

// TestStructAtCrossProcess has a C process and this one each add 1 to the
// same atomic field a million times at the same time, through
// testdata/structat/shared.h in C and StructAt[structAtShared] in Go: the
// total must be exactly two million. The same with plain increments on
// another field loses updates (when the loops overlap), showing the test
// can fail. The C peer is built for this machine's C ABI and, where
// possible, for i386 (-m32), whatever GOARCH this test binary has.
func TestStructAtCrossProcess(t *testing.T) {
	peers := []struct {
		name  string
		flags []string
	}{
		{"cc", nil},
		{"cc-m32", []string{"-m32"}},
	}
	for _, pc := range peers {
		t.Run(pc.name, func(t *testing.T) {
			shmtest.Isolate(t)
			bin, layout := buildStructAtPeer(t, pc.flags...)
			checkStructAtLayout(t, layout)
			structAtCount(t, bin, layout)
		})
	}
}

// structAtBarrier adds 1 to start and waits until it reaches want: the C
// peer does the same, so both loops begin within a few nanoseconds of each
// other. It polls with a deadline, and fails at once if the peer exits.
func structAtBarrier(t *testing.T, peer *shmtest.Process, start *atomic.Uint32, want uint32) {
	t.Helper()
	start.Add(1)
	deadline := time.Now().Add(structAtPeerTimeout)
	for i := 0; start.Load() < want; i++ {
		if i%4096 == 0 {
			select {
			case <-peer.Exited():
				t.Fatalf("the C peer exited (%+v) before reaching the start barrier", peer.Kill())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("the C peer did not reach the start barrier within %v (start = %d, want %d)", structAtPeerTimeout, start.Load(), want)
			}
		}
	}
}

// structAtCount runs the counting race against the C peer at bin.
func structAtCount(t *testing.T, bin string, layout map[string]int) {
	// n atomic increments from each side must all count. The control's
	// plain increments are ten times as many, so that the loops still
	// overlap when a busy machine runs the two processes on one CPU in turn.
	const n, nPlain = 1_000_000, 10_000_000
	seg, err := shmmap.CreateSegment(shmmap.IPCPrivate, 4096, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := seg.Remove(); err != nil {
			t.Errorf("remove the segment: %v", err)
		}
	})
	shm, err := seg.Attach(shmmap.AttachReadWrite)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shm.Detach() })
	p, err := shmmap.StructAt[structAtShared](shm.Bytes(), 0)
	if err != nil {
		t.Fatal(err)
	}

	// Started from the test's goroutine, so in its IPC namespace; killed
	// and reaped when the test ends, whatever happens.
	peer := shmtest.Start(t, exec.Command(bin, strconv.Itoa(seg.ID())))
	if l, err := parseStructAtLayout(expectStructAtLine(t, peer, "layout ")); err != nil || fmtStructAtLayout(l) != fmtStructAtLayout(layout) {
		t.Fatalf("the attached peer reports layout %v (%v), the probe %v", l, err, layout)
	}
	expectStructAtLine(t, peer, "ready")

	// Atomic: both loops start together, at the barrier.
	peer.Send(t, fmt.Sprintf("atomic %d 2", n))
	structAtBarrier(t, peer, &p.Start, 2)
	var goLast uint64
	for range n {
		goLast = p.Counter.Add(1)
	}
	p.Done.Add(1)
	cLast, err := strconv.ParseUint(strings.TrimPrefix(expectStructAtLine(t, peer, "done "), "done "), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Counter.Load(); got != 2*n {
		t.Errorf("after %d atomic increments from C and %d from Go, the counter is %d, want %d", n, n, got, 2*n)
	}
	// The same through the segment's bytes, at the offset C reported.
	b := make([]byte, 8)
	if _, err := shm.ReadAt(b, int64(layout["shared.counter"])); err != nil {
		t.Fatal(err)
	}
	if got := binary.NativeEndian.Uint64(b); got != 2*n {
		t.Errorf("the counter's bytes at offset %d read %d, want %d", layout["shared.counter"], got, 2*n)
	}
	if got := p.Done.Load(); got != 2 {
		t.Errorf("done = %d, want 2 (one from each side)", got)
	}
	// Whichever loop ended first saw the other's increments if they
	// overlapped; if they ran one after the other it ended at exactly n.
	t.Logf("atomic: total %d; the loops overlapped: %v (last values: Go %d, C %d)", p.Counter.Load(), min(goLast, cLast) > n, goLast, cLast)

	// The control: plain increments from both sides lose updates.
	peer.Send(t, fmt.Sprintf("plain %d 4", nPlain))
	structAtBarrier(t, peer, &p.Start, 4)
	for range nPlain {
		p.Plain++
	}
	p.Done.Add(1)
	expectStructAtLine(t, peer, "done ")
	switch plain := atomic.LoadUint64(&p.Plain); {
	case plain > 2*nPlain:
		t.Errorf("plain total %d is more than the %d increments made", plain, 2*nPlain)
	case plain < 2*nPlain:
		t.Logf("plain (control): total %d, %d updates lost: without atomics the test fails", plain, 2*nPlain-plain)
	default:
		t.Logf("plain (control): no update lost this time (total %d): the loops did not overlap enough to show it", plain)
	}
	if got := p.Done.Load(); got != 4 {
		t.Errorf("done = %d, want 4", got)
	}

	// End of file on its stdin ends it.
	if res := peer.Wait(t, structAtPeerTimeout); res.Status != 0 {
		t.Errorf("the C peer: %+v", res)
	}
}
