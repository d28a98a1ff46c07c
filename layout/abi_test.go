package layout_test

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/shmmap/shmmap/layout"
	"github.com/shmmap/shmmap/layout/layouttest"
)

// abi64 is struct abi of testdata/abi.h as x86-64 lays it out: long as
// int64, pointers as 8 bytes.
type abi64 struct {
	Kind  int32
	Count int64
	Flags int32
	Total int64
	Avg   float64
	Addr  uint64
	Name  uint64
	Tag   [3]byte
}

// abi32 is struct abi as i386 lays it out: long and pointers as 4 bytes;
// Go's 386 aligns int64 and float64 to 4, as i386 C does inside structs.
type abi32 struct {
	Kind  int32
	Count int32
	Flags int32
	Total int64
	Avg   float64
	Addr  uint32
	Name  uint32
	Tag   [3]byte
}

// abiBoth is struct abi on both ABIs: Go's int and uintptr have the size
// of C's long and pointers on each.
type abiBoth struct {
	Kind  int32
	Count int
	Flags int32
	Total int64
	Avg   float64
	Addr  uintptr
	Name  uintptr
	Tag   [3]byte
}

// afterInt is struct after_int right on amd64 only: atomic.Int64 is
// aligned to 8 even on 386 (so that its operations are atomic), where
// i386 C aligns the long long to 4.
type afterInt struct {
	A int32
	B atomic.Int64
}

// afterIntBoth is right on both: a plain int64 is aligned like C's.
type afterIntBoth struct {
	A int32
	B int64
}

// TestABI checks the structs whose layout differs between x86-64 and
// i386 in the running binary's ABI; from an amd64 run, Also386 runs it
// again as GOARCH=386 against C compiled with -m32, so that `go test`
// covers both where the machine can run 32-bit programs.
func TestABI(t *testing.T) {
	layouttest.Also386(t)
	t.Logf("GOARCH pointer size %d, C flags %q", ptrSize, layouttest.CFlags(t))

	for _, v := range []any{abiBoth{}, afterIntBoth{}} {
		name := "after_int"
		if _, ok := v.(abiBoth); ok {
			name = "abi"
		}
		if err := checkErr(t, v, "abi.h", "struct "+name); err != nil {
			t.Errorf("%T: %v", v, err)
		}
	}

	// The struct of this ABI passes; the other ABI's is a mismatch
	// naming count, whose size is long's.
	native, other := any(abi64{}), any(abi32{})
	if is32() {
		native, other = other, native
	}
	if err := checkErr(t, native, "abi.h", "struct abi"); err != nil {
		t.Errorf("%T: %v", native, err)
	}
	m := mismatch(t, other, "abi.h", "struct abi")
	if d := diffFor(t, m, "count"); !strings.Contains(d.Note, "size differs") {
		t.Errorf("%T: count: %+v", other, d)
	}
	rowFor(t, m, "count")

	// afterInt passes as amd64 and fails as 386, naming b and its offset.
	err := checkErr(t, afterInt{}, "abi.h", "struct after_int")
	if !is32() {
		if err != nil {
			t.Errorf("afterInt as amd64: %v", err)
		}
	} else {
		m := mismatch(t, afterInt{}, "abi.h", "struct after_int")
		if d := diffFor(t, m, "b"); !strings.Contains(d.Note, "offset differs") || d.COffset != 4 || d.GoOffset != 8 {
			t.Errorf("afterInt as 386: b: %+v", d)
		}
		rowFor(t, m, "b")
	}
}

// TestABIMismatch: C compiled for the other word size is refused with
// ErrABI, saying which flag to pass or drop, not compared.
func TestABIMismatch(t *testing.T) {
	flag, want := "-m32", "drop -m32"
	if is32() {
		flag, want = "-m64", "pass -m32"
	}
	err := layout.Check(abiBoth{}, testdata(t, "abi.h"), "struct abi", flag)
	var ce *layout.CompileError
	if errors.As(err, &ce) {
		t.Skipf("the C compiler cannot compile with %s here: %v", flag, err)
	}
	if !errors.Is(err, layout.ErrABI) || errors.Is(err, layout.ErrMismatch) {
		t.Fatalf("Check with %s: %v; want ErrABI", flag, err)
	}
	for _, s := range []string{want, "-bit", "GOARCH="} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("%q lacks %q", err, s)
		}
	}
}
