package layout_test

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/shmmap/shmmap/layout"
)

// one is struct one of testdata/refuse.h.
type one struct{ A int32 }

// TestRefuseC: what the C side cannot be compared on is refused with
// ErrUnsupported, naming the member and the reason, never a table.
func TestRefuseC(t *testing.T) {
	cases := []struct {
		cType string
		want  []string
	}{
		{"struct bits", []string{"mode", "bitfield", "3 bits"}},
		{"struct anon_union", []string{"anonymous union", "i, f"}},
		{"union number", []string{"union"}},
		{"notstruct_t", []string{"not a struct", "int"}},
		{"struct cplx", []string{"z", "complex"}},
		{"struct ldbl", []string{"field ld", "long double", "float32 and float64"}},
		{"struct f128", []string{"field q", "_Float128", "float32 and float64"}},
		{"fn_t", []string{"not an object type", "function"}},
	}
	if !is32() { // i386 has no __int128
		cases = append(cases, struct {
			cType string
			want  []string
		}{"struct i128", []string{"field u", "__int128", "wider than 8 bytes"}})
	}
	for _, c := range cases {
		err := checkErr(t, one{}, "refuse.h", c.cType)
		if !errors.Is(err, layout.ErrUnsupported) || errors.Is(err, layout.ErrMismatch) {
			t.Errorf("%s: %v; want ErrUnsupported", c.cType, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q lacks %q", c.cType, err, w)
			}
		}
		if _, err := layout.Measure(testdata(t, "refuse.h"), c.cType); !errors.Is(err, layout.ErrUnsupported) {
			t.Errorf("Measure %s: %v; want ErrUnsupported", c.cType, err)
		}
	}
}

// TestRefuseGo: Go fields with no C layout are refused with
// ErrUnsupported naming the field, before any C is compiled (the header
// here does not even exist).
func TestRefuseGo(t *testing.T) {
	type withPtr struct{ P *int32 }
	type withUnsafe struct{ P unsafe.Pointer }
	type withString struct{ S string }
	type withSlice struct{ B []byte }
	type withMap struct{ M map[int]int }
	type withIface struct{ I any }
	type withChan struct{ C chan int }
	type withFunc struct{ F func() }
	type withComplex struct{ Z complex128 }
	type withAtomicPtr struct{ P atomic.Pointer[int] }
	type inner struct{ Name string }
	type withNested struct {
		A   int32
		Arr [2]inner
	}
	cases := []struct {
		v    any
		want string
	}{
		{withPtr{}, "P is a pointer"},
		{withUnsafe{}, "P is a pointer"},
		{withString{}, "S is a string"},
		{withSlice{}, "B is a slice"},
		{withMap{}, "M is a map"},
		{withIface{}, "I is a interface"},
		{withChan{}, "C is a chan"},
		{withFunc{}, "F is a func"},
		{withComplex{}, "Z is a complex number"},
		{withAtomicPtr{}, "P is a atomic.Pointer[int]"},
		{withNested{}, "Arr[0].Name is a string"},
		{42, "not a struct"},
	}
	for _, c := range cases {
		err := layout.Check(c.v, "no/such/header.h", "struct one")
		if !errors.Is(err, layout.ErrUnsupported) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%T: %v; want ErrUnsupported saying %q", c.v, err, c.want)
		}
	}
	if err := layout.Check(nil, "no/such/header.h", "struct one"); err == nil || !strings.Contains(err.Error(), "nil") {
		t.Errorf("nil: %v", err)
	}
}

// TestRefuseMissing: a type the header does not declare (or declares
// incomplete) is ErrNotFound with the compiler's word on it; a missing
// header is fs.ErrNotExist; a malformed type name fs.ErrInvalid.
func TestRefuseMissing(t *testing.T) {
	for _, cType := range []string{"struct nosuch", "nosuch_t", "struct incomplete"} {
		err := checkErr(t, one{}, "refuse.h", cType)
		if !errors.Is(err, layout.ErrNotFound) || !strings.Contains(err.Error(), cType) {
			t.Errorf("%s: %v; want ErrNotFound", cType, err)
		}
		if !strings.Contains(err.Error(), "error") {
			t.Errorf("%s: %q lacks the compiler's message", cType, err)
		}
	}
	if err := checkErr(t, one{}, "nosuch.h", "struct one"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing header: %v", err)
	}
	for _, bad := range []string{"struct one; int x", "struct", "", "int *", "struct one {int a;}"} {
		if err := checkErr(t, one{}, "refuse.h", bad); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("type %q: %v; want fs.ErrInvalid", bad, err)
		}
	}
	// Surrounding blanks are trimmed, not refused.
	if err := checkErr(t, one{}, "refuse.h", " struct  one\n"); err != nil {
		t.Errorf("%v", err)
	}
}

// TestRefuseBrokenHeader: a header that does not compile is a
// *CompileError whose message carries the compiler's output, pointing at
// the header's line.
func TestRefuseBrokenHeader(t *testing.T) {
	err := checkErr(t, one{}, "broken.h", "struct broken")
	var ce *layout.CompileError
	if !errors.As(err, &ce) || errors.Is(err, layout.ErrNotFound) {
		t.Fatalf("%v; want a *CompileError", err)
	}
	if !strings.Contains(ce.Output, "broken.h:4") || !strings.Contains(err.Error(), ce.Output[:20]) {
		t.Errorf("output %q, error %q: want the compiler's complaint about broken.h line 4", ce.Output, err)
	}
	// Flags reach the compiler: an #error under a macro.
	dir := t.TempDir()
	h := filepath.Join(dir, "cond.h")
	if err := os.WriteFile(h, []byte("#ifdef REFUSE\n#error refused by flag\n#endif\nstruct one { int a; };\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := layout.Check(one{}, h, "struct one"); err != nil && !is32() {
		t.Errorf("without -DREFUSE: %v", err)
	}
	err = layout.Check(one{}, h, "struct one", "-DREFUSE")
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "refused by flag") {
		t.Errorf("with -DREFUSE: %v", err)
	}
}

// TestRefuseSplitDWARF: with -gsplit-dwarf, the object holds no
// description of the type (it is in a .dwo file): the error says so,
// rather than that the probe variable is missing.
func TestRefuseSplitDWARF(t *testing.T) {
	_, err := layout.Measure(testdata(t, "refuse.h"), "struct one", append(cflags(t), "-gsplit-dwarf")...)
	var ce *layout.CompileError
	if errors.As(err, &ce) {
		t.Skipf("the C compiler does not take -gsplit-dwarf: %v", err)
	}
	if err == nil || !strings.Contains(err.Error(), "no DWARF") || !strings.Contains(err.Error(), "split DWARF") {
		t.Errorf("%v; want it to say the object has no DWARF (split DWARF)", err)
	}
}

// TestCompilerMissing: a C compiler that cannot be run is said to be
// that, not a header that does not compile; the error still matches
// exec.ErrNotFound.
func TestCompilerMissing(t *testing.T) {
	t.Setenv("CC", "layout-no-such-cc")
	_, err := layout.Measure(testdata(t, "msg.h"), "struct msg")
	var ce *layout.CompileError
	if !errors.As(err, &ce) || !errors.Is(err, exec.ErrNotFound) {
		t.Fatalf("%v; want a *CompileError matching exec.ErrNotFound", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "the C compiler could not be run") || !strings.Contains(msg, "layout-no-such-cc") ||
		strings.Contains(msg, "does not compile") || strings.HasSuffix(msg, ":") || strings.HasSuffix(msg, "\n") {
		t.Errorf("%q", msg)
	}
}

// TestCompileErrorNoOutput: a compiler that fails silently gives a
// message that does not end in a colon announcing nothing.
func TestCompileErrorNoOutput(t *testing.T) {
	e := &layout.CompileError{Header: "h.h", Command: []string{"cc", "-c", "x.c"}, Err: errors.New("exit status 1")}
	if msg := e.Error(); strings.HasSuffix(msg, ":") || strings.HasSuffix(msg, "\n") || !strings.Contains(msg, "h.h does not compile") {
		t.Errorf("%q", msg)
	}
	e.Output = "x.c:1: error: bad\n"
	if msg := e.Error(); !strings.HasSuffix(msg, "):\nx.c:1: error: bad") {
		t.Errorf("%q", msg)
	}
}
