package layout

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
)

// goField is a field of the Go struct, as compared with a C member.
type goField struct {
	name   string // the Go field name
	tag    string // the c:"..." tag, if any
	path   string // from the outermost type, with Go names: "Recs[0].ID"
	offset int64  // from the start of the outermost type
	size   int64
	typ    reflect.Type
	// kind is the field's kind; for an array, its innermost elements'.
	kind     kind
	count    int64 // number of (innermost) elements of an array; -1 if not an array
	elemSize int64
	fields   []goField // a struct's fields, or those of an array's first element
	// embedded is set for an embedded struct and a field cgo named AnonN:
	// unless a C member has its name, its fields stand in its place, as a
	// C11 anonymous struct member's do (see expandEmbedded).
	embedded bool
}

// cgoPadRE matches the padding fields older cgo -godefs emits.
var cgoPadRE = regexp.MustCompile(`^Pad_cgo_[0-9]+$`)

// cgoAnonRE matches cgo -godefs's names for anonymous struct members.
var cgoAnonRE = regexp.MustCompile(`^Anon[0-9]+$`)

// isPadding reports whether f only pads: _ fields, fields tagged c:"-",
// and cgo's Pad_cgo_N.
func isPadding(f reflect.StructField) bool {
	return f.Name == "_" || f.Tag.Get("c") == "-" || cgoPadRE.MatchString(f.Name)
}

// goStructFields returns the fields of struct type t at base in the
// outermost type, whose paths start with prefix. Padding is left out.
// where names the Go type for messages.
func goStructFields(where string, t reflect.Type, prefix string, base int64) ([]goField, error) {
	var out []goField
	for i := range t.NumField() {
		sf := t.Field(i)
		if isPadding(sf) {
			continue
		}
		tag := sf.Tag.Get("c")
		off := base + int64(sf.Offset)
		f, err := goFieldOf(where, sf.Name, tag, prefix+sf.Name, off, sf.Type)
		if err != nil {
			return nil, err
		}
		f.embedded = tag == "" && f.kind == kStruct && f.count < 0 && (sf.Anonymous || cgoAnonRE.MatchString(sf.Name))
		out = append(out, f)
	}
	return out, nil
}

// goFieldOf describes the field name of type t at offset off.
func goFieldOf(where, name, tag, path string, off int64, t reflect.Type) (goField, error) {
	f := goField{name: name, tag: tag, path: path, offset: off, size: int64(t.Size()), typ: t, count: -1}
	elem := t
	sub := path
	for elem.Kind() == reflect.Array {
		if f.count < 0 {
			f.count = 1
		}
		f.count *= int64(elem.Len())
		elem = elem.Elem()
		sub += "[0]"
	}
	f.elemSize = int64(elem.Size())
	k, err := goKind(where, path, elem)
	if err != nil {
		return f, err
	}
	f.kind = k
	if k == kStruct {
		fs, err := goStructFields(where, elem, sub+".", off)
		if err != nil {
			return f, err
		}
		f.fields = fs
	}
	return f, nil
}

// goKind classifies a Go type that is not an array, or refuses it.
func goKind(where, path string, t reflect.Type) (kind, error) {
	switch t.Kind() {
	case reflect.Bool:
		return kBool, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return kInt, nil
	case reflect.Float32, reflect.Float64:
		return kFloat, nil
	case reflect.Struct:
		switch atomicKind(t) {
		case "":
			return kStruct, nil
		case "int":
			return kInt, nil
		default:
			return 0, unsupported("Go "+where, "field %s is a %s, a pointer the garbage collector tracks; shared memory can only hold addresses as uintptr", path, t)
		}
	case reflect.Pointer, reflect.UnsafePointer:
		return 0, unsupported("Go "+where, "field %s is a pointer (%s): it means nothing in another process, and the garbage collector does not see it in shared memory; use uintptr", path, t)
	case reflect.String, reflect.Slice:
		return 0, unsupported("Go "+where, "field %s is a %s (%s), a header pointing elsewhere; use a fixed-size array", path, t.Kind(), t)
	case reflect.Map, reflect.Chan, reflect.Func, reflect.Interface:
		return 0, unsupported("Go "+where, "field %s is a %s (%s), which has no C layout", path, t.Kind(), t)
	case reflect.Complex64, reflect.Complex128:
		return 0, unsupported("Go "+where, "field %s is a complex number (%s)", path, t)
	}
	return 0, unsupported("Go "+where, "field %s has the type %s", path, t)
}

// atomicKind says what a sync/atomic type stands for: "int" for the
// integer and boolean types (atomic.Int64, atomic.Bool, ...: structs of
// one integer, with markers for alignment and against copying), "pointer"
// for atomic.Pointer and atomic.Value, "" for any other type.
func atomicKind(t reflect.Type) string {
	if t.Kind() != reflect.Struct || t.PkgPath() != "sync/atomic" {
		return ""
	}
	switch name := t.Name(); {
	case name == "Int32", name == "Int64", name == "Uint32", name == "Uint64", name == "Uintptr", name == "Bool":
		return "int"
	case strings.HasPrefix(name, "Pointer["), name == "Value":
		return "pointer"
	}
	return ""
}

// goStruct returns the struct type of v (a value or a pointer to one).
func goStruct(v any) (reflect.Type, error) {
	t := reflect.TypeOf(v)
	if t == nil {
		return nil, fmt.Errorf("layout: Check needs a Go struct (or a pointer to one), got nil")
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil, unsupported("Go "+t.String(), "not a struct (a %s)", t.Kind())
	}
	return t, nil
}

// expandEmbedded replaces each embedded struct field (and cgo AnonN
// field) that no C member of cfs is named after by its own fields, as a
// C11 anonymous struct member's members belong to the outer struct.
func expandEmbedded(gfs []goField, cfs []Field) []goField {
	var out []goField
	for _, g := range gfs {
		if g.embedded && !namedIn(&g, cfs) {
			out = append(out, expandEmbedded(g.fields, cfs)...)
			continue
		}
		out = append(out, g)
	}
	return out
}

// namedIn reports whether a C member of cfs has the name of g, an
// embedded field (which has no tag: a tagged one is never expanded).
func namedIn(g *goField, cfs []Field) bool {
	for _, cf := range cfs {
		if strings.EqualFold(g.name, cf.Name) {
			return true
		}
	}
	return false
}
