package layout_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/shmmap/shmmap/layout"
)

// ptrSize is this binary's pointer size.
const ptrSize = unsafe.Sizeof(uintptr(0))

// nestedRef prints what the C compiler says of struct nested: sizeof,
// _Alignof, sizeof(void *), then "PATH OFFSET SIZE" for every member
// path, nested ones included.
const nestedRef = `#include <stdio.h>
#include <stddef.h>
#include "%s"
#define F(p) printf("%%s %%zu %%zu\n", #p, offsetof(struct nested, p), sizeof(((struct nested *)0)->p))
int main(void) {
	printf("sizeof %%zu\n_Alignof %%zu\npointer %%zu\n", sizeof(struct nested), _Alignof(struct nested), sizeof(void *));
	F(c); F(recs); F(recs[0].id); F(recs[0].v); F(recs[0].name);
	F(pts); F(pts[0][0].x); F(pts[0][0].y);
	F(inner); F(inner.a); F(inner.b);
	F(lo); F(hi); F(grid); F(bits); F(cv); F(at); F(color); F(ok); F(ptr);
	printf("tail %%zu 0\n", offsetof(struct nested, tail));
	return 0;
}
`

// TestMeasureMatchesC: every member path, offset and size Measure finds
// in struct nested (typedefs, nested and anonymous structs, arrays of
// structs, a two-dimensional array, a typedef of an array, a union,
// qualifiers, _Atomic, an enum, a pointer, a flexible array member) is
// what offsetof and sizeof say in a C program compiled with the same
// flags, and there are no others; so are the size, alignment and pointer
// size. Both ABIs, where the machine builds and runs -m32 programs.
func TestMeasureMatchesC(t *testing.T) {
	header := testdata(t, "nested.h")
	for _, flags := range [][]string{nil, {"-m32"}} {
		t.Run(fmt.Sprint(flags), func(t *testing.T) {
			ref := runC(t, fmt.Sprintf(nestedRef, header), flags...)
			l, err := layout.Measure(header, "struct nested", flags...)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string][2]int64{}
			var order []string
			for _, line := range strings.Split(strings.TrimSpace(ref), "\n") {
				f := strings.Fields(line)
				a, _ := strconv.ParseInt(f[1], 10, 64)
				switch f[0] {
				case "sizeof":
					if l.Size != a {
						t.Errorf("Size %d, C says %d", l.Size, a)
					}
				case "_Alignof":
					if l.Align != a {
						t.Errorf("Align %d, C says %d", l.Align, a)
					}
				case "pointer":
					if l.PtrSize != a {
						t.Errorf("PtrSize %d, C says %d", l.PtrSize, a)
					}
				default:
					b, _ := strconv.ParseInt(f[2], 10, 64)
					want[f[0]] = [2]int64{a, b}
					order = append(order, f[0])
				}
			}
			got := map[string][2]int64{}
			for _, f := range l.All() {
				got[f.Path] = [2]int64{f.Offset, f.Size}
			}
			for _, p := range order {
				g, ok := got[p]
				switch {
				case !ok:
					t.Errorf("%s: missing; C has it at offset %d, size %d", p, want[p][0], want[p][1])
				case g != want[p]:
					t.Errorf("%s: offset %d, size %d; C says %d, %d", p, g[0], g[1], want[p][0], want[p][1])
				}
			}
			for p := range got {
				if _, ok := want[p]; !ok {
					t.Errorf("%s: Measure has it, C's list does not", p)
				}
			}
			// The spellings come from the header's text.
			types := map[string]string{
				"recs": "struct rec[3]", "recs[0].name": "char[5]", "pts": "point_t[2][2]",
				"pts[0][0].x": "uint16_t", "ptr": "void *", "inner.b": "int64_t",
				"grid": "int[2][3]", // GCC's debugging information drops row_t
				"tail": "char[]",    // a flexible array member, not char[0]
			}
			for _, f := range l.All() {
				if w, ok := types[f.Path]; ok && f.Type != w && !(f.Path == "grid" && f.Type == "row_t[2]") {
					t.Errorf("%s: type %q, the header says %q", f.Path, f.Type, w)
				}
			}
			// The table spells the flexible array member as declared.
			if row := strings.Fields(lastRow(l.String(), "tail")); len(row) != 4 || row[3] != "char[]" {
				t.Errorf("tail row %q in:\n%v", row, l)
			}
			if t.Failed() {
				t.Logf("C says:\n%s\nMeasure:\n%v", ref, l)
			}
		})
	}
}

// TestMeasureTypedef: a typedef name measures as the struct it names.
func TestMeasureTypedef(t *testing.T) {
	header := testdata(t, "nested.h")
	a, err := layout.Measure(header, "struct nested")
	if err != nil {
		t.Fatal(err)
	}
	b, err := layout.Measure(header, "nested_t")
	if err != nil {
		t.Fatal(err)
	}
	if a.Size != b.Size || a.Align != b.Align || len(a.All()) != len(b.All()) || b.Type != "nested_t" {
		t.Errorf("struct nested: %v\nnested_t: %v", a, b)
	}
}

// TestLayoutString: the table has the size line, a row per member and a
// (padding) row for each hole, whose offsets and sizes fill the struct
// exactly; values come from the C program.
func TestLayoutString(t *testing.T) {
	header := testdata(t, "abi.h")
	ref := runC(t, fmt.Sprintf(`#include <stdio.h>
#include <stddef.h>
#include "%s"
int main(void) {
	printf("%%zu %%zu %%zu %%zu %%zu\n", sizeof(struct abi), _Alignof(struct abi), sizeof(void *), offsetof(struct abi, count), offsetof(struct abi, kind) + sizeof(int32_t));
	return 0;
}
`, header))
	var size, align, ptr, countOff, kindEnd int64
	fmt.Sscan(ref, &size, &align, &ptr, &countOff, &kindEnd)
	l, err := layout.Measure(header, "struct abi")
	if err != nil {
		t.Fatal(err)
	}
	s := l.String()
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if want := fmt.Sprintf("struct abi: size %d, align %d (sizeof(void *) = %d)", size, align, ptr); lines[0] != want {
		t.Errorf("first line %q, want %q", lines[0], want)
	}
	if strings.Join(strings.Fields(lines[1]), " ") != "FIELD OFFSET SIZE TYPE" {
		t.Errorf("header row %q", lines[1])
	}
	// The rows tile the struct: each starts where the previous ended.
	var at int64
	sawPad := false
	for _, row := range lines[2:] {
		f := strings.Fields(row)
		off, _ := strconv.ParseInt(f[1], 10, 64)
		sz, _ := strconv.ParseInt(f[2], 10, 64)
		if off != at {
			t.Errorf("row %q starts at %d, the previous ended at %d", row, off, at)
		}
		if f[0] == "(padding)" && off == kindEnd {
			sawPad = true
			if kindEnd+sz != countOff {
				t.Errorf("padding after kind: %q; C puts count at %d", row, countOff)
			}
		}
		at = off + sz
	}
	if at != size {
		t.Errorf("the rows end at %d, sizeof is %d", at, size)
	}
	if (countOff > kindEnd) != sawPad {
		t.Errorf("padding row after kind: %v; C: count at %d, kind ends at %d\n%s", sawPad, countOff, kindEnd, s)
	}
}

// TestMeasureRelativePaths: a relative header and relative -I paths in
// the flags mean what they mean in the caller's directory.
func TestMeasureRelativePaths(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "inc"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "top.h"), []byte("#include \"sub.h\"\nstruct outer { struct sub s; char c; };\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "inc", "sub.h"), []byte("struct sub { int a, b; };\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	l, err := layout.Measure("top.h", "struct outer", "-I", "inc")
	if err != nil {
		t.Fatal(err)
	}
	if paths := len(l.All()); paths != 4 || l.Fields[0].Type != "struct sub" {
		t.Errorf("%v", l)
	}
	var ce *layout.CompileError
	if _, err := layout.Measure("top.h", "struct outer"); !errors.As(err, &ce) || !strings.Contains(ce.Output, "sub.h") {
		t.Errorf("without -I inc: %v", err)
	}
}

// lastRow returns the last line of table whose first field is name.
func lastRow(table, name string) string {
	row := ""
	for _, line := range strings.Split(table, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == name {
			row = line
		}
	}
	return row
}
