package layout_test

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/shmmap/shmmap/layout"
	"github.com/shmmap/shmmap/layout/layouttest"
)

// point, rec and nested are struct nested of testdata/nested.h in Go, on
// both ABIs: int64_t and double are aligned like C's on each.
type point struct{ X, Y uint16 }

type rec struct {
	ID   int32
	V    float64
	Name [5]byte
}

type loHi struct {
	Lo uint8
	Hi uint32
}

type nested struct {
	C     byte
	Recs  [3]rec
	Pts   [2][2]point
	Inner struct {
		A int8
		B int64
	}
	loHi           // the anonymous struct member
	Grid  [6]int32 // int grid[2][3]: the same bytes
	Bits  [4]byte  // a union, opaque
	CV    uint64
	At    atomic.Uint32
	Color uint32 `c:"color"`
	OK    bool
	Ptr   uintptr
}

// checkErr runs Check with the flags of this binary's ABI.
func checkErr(t *testing.T, v any, header, cType string) error {
	t.Helper()
	return layout.Check(v, testdata(t, header), cType, layouttest.CFlags(t)...)
}

// mismatch runs Check and returns the *Mismatch it must return.
func mismatch(t *testing.T, v any, header, cType string) *layout.Mismatch {
	t.Helper()
	err := checkErr(t, v, header, cType)
	var m *layout.Mismatch
	if !errors.As(err, &m) || !errors.Is(err, layout.ErrMismatch) {
		t.Fatalf("Check(%T, %s): %v; want a *Mismatch", v, cType, err)
	}
	return m
}

// diffFor returns the difference naming field, or fails.
func diffFor(t *testing.T, m *layout.Mismatch, field string) layout.Difference {
	t.Helper()
	for _, d := range m.Differences {
		if d.Field == field {
			return d
		}
	}
	t.Fatalf("no difference for %q in:\n%v", field, m)
	return layout.Difference{}
}

// rowFor returns the line of the error's table that names field.
func rowFor(t *testing.T, err error, field string) string {
	t.Helper()
	for _, line := range strings.Split(err.Error(), "\n")[1:] {
		if f := strings.Fields(line); len(f) > 0 && f[0] == field {
			return line
		}
	}
	t.Fatalf("no row for %q in:\n%v", field, err)
	return ""
}

// TestCheckNested: a Go struct with the layout of struct nested passes:
// nested structs, arrays of structs, a two-dimensional array as a flat
// one, an embedded struct for the anonymous member, a union as bytes,
// atomic.Uint32 for _Atomic uint32_t, a tag, a pointer as uintptr, the
// flexible array member left out; through the typedef name too, and
// given as a pointer.
func TestCheckNested(t *testing.T) {
	if err := checkErr(t, nested{}, "nested.h", "struct nested"); err != nil {
		t.Error(err)
	}
	if err := checkErr(t, &nested{}, "nested.h", "nested_t"); err != nil {
		t.Error(err)
	}
}

// badNested has a mistake in a nested struct, in the element of an array
// of structs, in an array's length, and the wrong kind.
type badNested struct {
	C    byte
	Recs [3]struct {
		ID   int32
		V    float32 // double
		Name [5]byte
	}
	Pts   [2][2]point
	Inner struct {
		A int16 // int8_t
		B int32 // int64_t
	}
	loHi
	Grid  [5]int32 // [2][3]
	Bits  [4]byte
	CV    float64 // uint64_t
	At    atomic.Uint32
	Color uint32
	OK    bool
	Ptr   uintptr
}

// TestCheckNestedDifferences: every mistake is a row naming the member
// by its C path, and the rows after them show the shifted offsets.
func TestCheckNestedDifferences(t *testing.T) {
	m := mismatch(t, badNested{}, "nested.h", "struct nested")
	if d := diffFor(t, m, "recs[0].v"); !strings.Contains(d.Note, "size differs") || d.CSize != 8 || d.GoSize != 4 {
		t.Errorf("recs[0].v: %+v", d)
	}
	if d := diffFor(t, m, "recs"); !strings.Contains(d.Note, "element size differs") {
		t.Errorf("recs: %+v", d)
	}
	if d := diffFor(t, m, "inner.a"); !strings.Contains(d.Note, "size differs") {
		t.Errorf("inner.a: %+v", d)
	}
	if d := diffFor(t, m, "inner.b"); !strings.Contains(d.Note, "size differs") {
		t.Errorf("inner.b: %+v", d)
	}
	if d := diffFor(t, m, "recs[0].name"); !strings.Contains(d.Note, "offset within recs[0] differs") {
		t.Errorf("recs[0].name: %+v", d)
	}
	if d := diffFor(t, m, "grid"); !strings.Contains(d.Note, "C has 6 elements, Go 5") {
		t.Errorf("grid: %+v", d)
	}
	if d := diffFor(t, m, "cv"); !strings.Contains(d.Note, "C holds an integer, Go a floating-point number") {
		t.Errorf("cv: %+v", d)
	}
	for _, field := range []string{"recs[0].v", "recs[0].name", "recs", "inner.a", "inner.b", "grid", "cv"} {
		rowFor(t, m, field)
	}
}

// wrongAbi has every kind of difference against struct abi at once.
type wrongAbi struct {
	Kind  float32 // int32_t
	Count int     // long: right on both ABIs
	// flags is missing
	Total int64
	Avg   float64
	Addr  uintptr
	Extra int32 // not in C
	Name  uintptr
	Tag   [4]byte // char[3]
}

// TestCheckListsEveryDifference: a wrong kind, a missing field, an extra
// field, a wrong array length and the offsets they shift are all listed,
// each in its own row of the table.
func TestCheckListsEveryDifference(t *testing.T) {
	m := mismatch(t, wrongAbi{}, "abi.h", "struct abi")
	kind := diffFor(t, m, "kind")
	if !strings.Contains(kind.Note, "C holds an integer, Go a floating-point number") || kind.CType != "int32_t" || kind.GoType != "float32" {
		t.Errorf("kind: %+v", kind)
	}
	flags := diffFor(t, m, "flags")
	if flags.GoOffset != -1 || flags.GoSize != -1 || !strings.Contains(flags.Note, "no Go field") {
		t.Errorf("flags: %+v", flags)
	}
	extra := diffFor(t, m, "Extra")
	if extra.COffset != -1 || extra.CSize != -1 || !strings.Contains(extra.Note, "no C member") {
		t.Errorf("Extra: %+v", extra)
	}
	tag := diffFor(t, m, "tag")
	if !strings.Contains(tag.Note, "C has 3 elements, Go 4") {
		t.Errorf("tag: %+v", tag)
	}
	for _, f := range []string{"kind", "flags", "Extra", "tag"} {
		if !strings.Contains(m.Error(), "\n  "+f) {
			t.Errorf("no row for %s in:\n%v", f, m)
		}
	}
	if !strings.Contains(m.Error(), "differences") || len(m.Differences) < 5 {
		t.Errorf("%d differences:\n%v", len(m.Differences), m)
	}
	// The missing row's Go columns are dashes.
	if f := strings.Fields(rowFor(t, m, "flags")); f[4] != "-" || f[5] != "-" {
		t.Errorf("flags row %q", f)
	}
}

// padGo matches struct pad's members but has an extra 8 bytes of padding
// at the end: 24 bytes against C's 16.
type padGo struct {
	A int64
	B int32
	_ [8]byte
}

// padOK is the same without them.
type padOK struct {
	A int64
	B int32
}

// TestCheckTrailingPadding: a Go struct wrong only by its trailing
// padding is caught by the whole type's row, naming it. (Packed and
// over-aligned structs, which no Go struct matches, are refused: see
// TestRefuseAlignment.)
func TestCheckTrailingPadding(t *testing.T) {
	if err := checkErr(t, padOK{}, "pad.h", "struct pad"); err != nil {
		t.Errorf("padOK: %v", err)
	}
	m := mismatch(t, padGo{}, "pad.h", "struct pad")
	if len(m.Differences) != 1 {
		t.Fatalf("want only the whole type's row:\n%v", m)
	}
	d := m.Differences[0]
	if d.Field != "" || d.GoSize-d.CSize != 8 || !strings.Contains(d.Note, "trailing padding") {
		t.Errorf("%+v", d)
	}
	if row := rowFor(t, m, "(struct"); !strings.Contains(row, "pad)") {
		t.Errorf("row %q does not name struct pad", row)
	}
}

// tagged uses every way of matching a field and of padding.
type tagged struct {
	Whatever  int32 `c:"kind"`
	COUNT     int
	Pad_cgo_0 [0]byte
	Flags     int32
	_         [0]func() // not comparable; padding
	Total     int64
	Avg       float64
	Addr      uintptr
	Name      uintptr
	Tag       [3]int8
	Ignored   [0]byte `c:"-"`
}

// TestCheckMatching: tags, case-insensitive names and padding fields
// (_, c:"-", Pad_cgo_N) are honoured, and a wrong tag is a difference on
// both sides.
func TestCheckMatching(t *testing.T) {
	if err := checkErr(t, tagged{}, "abi.h", "struct abi"); err != nil {
		t.Error(err)
	}
	type wrongTag struct {
		Kind  int32 `c:"knd"`
		Count int
		Flags int32
		Total int64
		Avg   float64
		Addr  uintptr
		Name  uintptr
		Tag   [3]byte
	}
	m := mismatch(t, wrongTag{}, "abi.h", "struct abi")
	if d := diffFor(t, m, "kind"); !strings.Contains(d.Note, "no Go field") {
		t.Errorf("%+v", d)
	}
	if d := diffFor(t, m, "Kind"); !strings.Contains(d.Note, "no C member") {
		t.Errorf("%+v", d)
	}
}

// Header is struct header of testdata/embed.h.
type Header struct{ Magic, Len uint32 }

// ab is the anonymous struct member of struct packet.
type ab struct{ A, B uint16 }

// packet embeds Header for the member named header, and ab for the
// anonymous struct; the array of unions is bytes.
type packet struct {
	Header
	Words [2][4]byte
	ab
	Data [8]byte
}

// shortHeader gets len wrong inside the embedded struct.
type shortHeader struct {
	Magic uint32
	Len   uint16
}

// badPacket embeds it.
type badPacket struct {
	shortHeader `c:"header"`
	Words       [8]byte
	ab
	Data [8]byte
}

// TestCheckEmbedded: an embedded struct named after a C member is that
// member (its fields compared under its C path); one no member is named
// after stands for an anonymous struct; an array of unions may be bytes.
func TestCheckEmbedded(t *testing.T) {
	if err := checkErr(t, packet{}, "embed.h", "struct packet"); err != nil {
		t.Error(err)
	}
	m := mismatch(t, badPacket{}, "embed.h", "struct packet")
	if d := diffFor(t, m, "header.len"); !strings.Contains(d.Note, "size differs") {
		t.Errorf("header.len: %+v", d)
	}
	if len(m.Differences) != 1 {
		t.Errorf("want only header.len (Go pads shortHeader to 8 bytes):\n%v", m)
	}
}
