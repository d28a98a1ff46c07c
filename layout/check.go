package layout

import (
	"fmt"
	"reflect"
	"runtime"
	"strings"
)

// Check compares the layout of the Go struct type of v (a value of it or a
// pointer to one; its contents do not matter) with the C type cType
// declared in the header file header, as the C compiler (`go env CC`)
// lays it out with the extra flags cflags, and returns nil when they
// agree.
//
// cType is "struct name" or a typedef name. The Go side is the running
// binary's own layout (reflect), so a 32-bit (GOARCH=386) test binary
// checks the 32-bit layout: pass -m32 then (ABIFlags gives the flags for
// the running binary). A C compiler targeting another word size than the
// binary is an error wrapping ErrABI, not a table of differences.
//
// Members are matched to Go fields by the struct tag c:"name", or else by
// name ignoring case (cgo -godefs's X_name for _name too). Go fields named
// _, tagged c:"-" or named Pad_cgo_N are padding and are not matched, but
// they move the fields after them; an embedded struct or a field cgo
// named AnonN stands for a C11 anonymous struct member, unless a C member
// is named after it. Compared are: the total size
// and alignment; every member's offset and size; its kind (an integer,
// _Bool, a floating-point number, a struct; a C pointer matches a Go
// integer such as uintptr, a C struct or union, or an array of them, a Go
// byte array of its size); an array's element count and element size; the
// members of nested
// structs and of the first element of arrays of structs. A C member with
// no Go field and a Go field with no C member are differences too, except
// for a C flexible array member, which has no size.
//
// When they differ, the error is a *Mismatch (errors.Is(err,
// ErrMismatch)), whose message tabulates every difference. What cannot be
// checked wraps ErrUnsupported; a header that does not compile is a
// *CompileError; a type the header does not declare wraps ErrNotFound.
func Check(v any, header, cType string, cflags ...string) error {
	t, err := goStruct(v)
	if err != nil {
		return err
	}
	gfs, err := goStructFields(t.String(), t, "", 0)
	if err != nil {
		return err
	}
	l, err := measure(header, cType, cflags)
	if err != nil {
		return err
	}
	if err := abiCheck(l); err != nil {
		return err
	}
	diffs := compare(l, t, gfs)
	if len(diffs) == 0 {
		return nil
	}
	return &Mismatch{GoType: t.String(), CType: l.Type, Header: header, CFlags: l.CFlags, Differences: diffs}
}

// goPtrSize is the running binary's pointer size.
var goPtrSize = int64(reflect.TypeFor[uintptr]().Size())

// abiCheck refuses a C target whose pointers are not the size of this
// binary's.
func abiCheck(l *Layout) error {
	if l.PtrSize == goPtrSize {
		return nil
	}
	flags := "no -m32"
	if len(l.CFlags) > 0 {
		flags = strings.Join(l.CFlags, " ")
	}
	hint := "pass the C compiler the flags selecting the binary's ABI (ABIFlags)"
	switch {
	case l.PtrSize == 8 && goPtrSize == 4:
		hint = "pass -m32 (ABIFlags gives it)"
	case l.PtrSize == 4 && goPtrSize == 8:
		hint = "drop -m32 here, and check the 32-bit layout from a GOARCH=386 binary (see layouttest.Also386)"
	}
	return fmt.Errorf("layout: C %s was compiled for %d-bit (sizeof(void *) = %d, flags: %s), this Go binary is %d-bit (GOARCH=%s): %s: %w",
		l.Type, 8*l.PtrSize, l.PtrSize, flags, 8*goPtrSize, runtime.GOARCH, hint, ErrABI)
}

// compare lists the differences between the C layout and the Go struct t
// with fields gfs.
func compare(l *Layout, t reflect.Type, gfs []goField) []Difference {
	var c comparer
	c.structs(l.Fields, gfs, 0, 0, "")
	var notes []string
	if l.Size != int64(t.Size()) {
		n := fmt.Sprintf("Go is %d bytes larger", int64(t.Size())-l.Size)
		if int64(t.Size()) < l.Size {
			n = fmt.Sprintf("Go is %d bytes smaller", l.Size-int64(t.Size()))
		}
		if len(c.diffs) == 0 {
			n += " after the last member: trailing padding"
		}
		notes = append(notes, n)
	}
	if l.Align != int64(t.Align()) {
		notes = append(notes, fmt.Sprintf("alignment differs: C %d, Go %d", l.Align, t.Align()))
	}
	if len(notes) > 0 {
		whole := Difference{COffset: -1, CSize: l.Size, CType: l.Type, GoOffset: -1, GoSize: int64(t.Size()), GoType: t.String(), Note: strings.Join(notes, "; ")}
		c.diffs = append([]Difference{whole}, c.diffs...)
	}
	return c.diffs
}

// comparer accumulates differences.
type comparer struct {
	diffs []Difference
}

// structs compares the members cfs of a C struct at cBase with the fields
// gfs of a Go struct at gBase; inside names the struct ("" for the
// outermost, "hdr", "recs[0]").
func (c *comparer) structs(cfs []Field, gfs []goField, cBase, gBase int64, inside string) {
	gfs = expandEmbedded(gfs, cfs)
	used := make([]bool, len(gfs))
	for _, cf := range cfs {
		i := matchField(cf.Name, gfs, used)
		if i < 0 {
			if cf.flexible {
				continue // no storage: a Go struct usually leaves it out
			}
			c.diffs = append(c.diffs, Difference{
				Field: cf.Path, COffset: cf.Offset, CSize: cf.Size, CType: cf.Type, GoOffset: -1, GoSize: -1,
				Note: fmt.Sprintf("no Go field (name one %s, or tag one `c:\"%s\"`)", exportedName(cf.Name), cf.Name),
			})
			continue
		}
		used[i] = true
		c.pair(&cf, &gfs[i], cBase, gBase, inside)
	}
	for i := range gfs {
		if used[i] {
			continue
		}
		gf := &gfs[i]
		c.diffs = append(c.diffs, Difference{
			Field: gf.path, COffset: -1, CSize: -1, GoOffset: gf.offset, GoSize: gf.size, GoType: gf.typ.String(),
			Note: "no C member (padding must be named _, or tagged `c:\"-\"`)",
		})
	}
}

// pair compares a C member with the Go field matched to it, and their
// members.
func (c *comparer) pair(cf *Field, gf *goField, cBase, gBase int64, inside string) {
	var notes []string
	if cRel, gRel := cf.Offset-cBase, gf.offset-gBase; cRel != gRel {
		if inside == "" {
			notes = append(notes, "offset differs")
		} else {
			notes = append(notes, fmt.Sprintf("offset within %s differs: C %d, Go %d", inside, cRel, gRel))
		}
	}
	if cf.Size != gf.size {
		notes = append(notes, "size differs")
	}
	cArray, gArray := cf.dims != nil, gf.count >= 0
	// A Go byte array may stand for a C struct or union, or an array of
	// them, of its size (cgo -godefs writes unions so).
	opaque := (cf.kind == kStruct || cf.kind == kUnion) && gArray && gf.kind == kInt && gf.elemSize == 1
	switch {
	case opaque:
	case cArray && !gArray:
		notes = append(notes, "C has an array, Go not")
	case !cArray && gArray && cf.kind != kUnion:
		notes = append(notes, "Go has an array, C not")
	case cArray && gArray:
		if cf.count() != gf.count {
			notes = append(notes, fmt.Sprintf("C has %d elements, Go %d", cf.count(), gf.count))
		}
		if cf.elemSize != gf.elemSize {
			notes = append(notes, fmt.Sprintf("element size differs: C %d, Go %d", cf.elemSize, gf.elemSize))
		}
	}
	if !opaque {
		if n := kindNote(cf, gf); n != "" {
			notes = append(notes, n)
		}
	}
	if len(notes) > 0 {
		c.diffs = append(c.diffs, Difference{
			Field: cf.Path, COffset: cf.Offset, CSize: cf.Size, CType: cf.Type,
			GoOffset: gf.offset, GoSize: gf.size, GoType: gf.typ.String(), Note: strings.Join(notes, "; "),
		})
	}
	if cf.kind == kStruct && gf.kind == kStruct {
		sub := cf.Path
		for range cf.dims {
			sub += "[0]"
		}
		c.structs(cf.Fields, gf.fields, cf.Offset, gf.offset, sub)
	}
}

// kindNote says how the kinds of a C member and its Go field are
// incompatible, or returns "".
func kindNote(cf *Field, gf *goField) string {
	switch ck, gk := cf.kind, gf.kind; {
	case ck == gk:
		return ""
	case ck == kUnion:
		return "" // opaque: only its offset and size are compared
	case ck == kPointer && gk == kInt:
		return "" // an address, held as uintptr or an integer of its size
	case ck == kBool && gk == kInt:
		return ""
	case ck == kInt && gk == kBool:
		return "C holds an integer, Go a bool (which must be 0 or 1): use an integer type"
	default:
		return fmt.Sprintf("C holds %v, Go %v", ck, gk)
	}
}

// matchField returns the index of the Go field matched to the C member
// name, or -1: the field tagged c:"name"; else an untagged field named
// name, ignoring case; else one named as cgo -godefs names a member that
// begins with an underscore (X_name).
func matchField(name string, gfs []goField, used []bool) int {
	try := func(ok func(g *goField) bool) int {
		for i := range gfs {
			if !used[i] && ok(&gfs[i]) {
				return i
			}
		}
		return -1
	}
	tests := []func(g *goField) bool{
		func(g *goField) bool { return g.tag == name },
		func(g *goField) bool { return g.tag == "" && g.name == name },
		func(g *goField) bool { return g.tag == "" && strings.EqualFold(g.name, name) },
		func(g *goField) bool {
			return g.tag == "" && strings.HasPrefix(name, "_") && strings.EqualFold(g.name, "X"+name)
		},
	}
	for _, ok := range tests {
		if i := try(ok); i >= 0 {
			return i
		}
	}
	return -1
}

// exportedName is the Go name a field for the C member name would have:
// the first letter upper-cased (X_name for _name, as cgo -godefs does).
func exportedName(name string) string {
	if name == "" || strings.HasPrefix(name, "_") {
		return "X" + name
	}
	return strings.ToUpper(name[:1]) + name[1:]
}
