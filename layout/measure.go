package layout

import (
	"debug/dwarf"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Layout is a C struct type as the C compiler lays it out.
type Layout struct {
	Type    string   // the type as named: "struct stats", "stats_t"
	Header  string   // the header declaring it, as given
	CFlags  []string // the extra compiler flags it was measured with
	Size    int64    // sizeof
	Align   int64    // _Alignof
	PtrSize int64    // sizeof(void *) on the compiler's target: 8, or 4 with -m32
	// Fields are the members in declaration order. The members of an
	// anonymous struct member (C11) stand in its place, as C names them.
	Fields []Field

	// anon describes the anonymous struct members, for GoDefs.
	anon []string
	// decl is the type as declared (before typedefs are resolved) and st
	// the struct it is.
	decl dwarf.Type
	st   *dwarf.StructType
}

// Field is one member of a C struct.
type Field struct {
	Name string // the member's name: "id"
	// Path names the member from the outermost type, as C's offsetof
	// does: "hdr.count", and "recs[0].id" for a member of the first
	// element of an array of structs.
	Path   string
	Offset int64  // from the start of the outermost type
	Size   int64  // sizeof; 0 for a flexible array member
	Type   string // as C spells it: "int32_t", "char[32]", "struct rec[4]", "char *", "union u"
	// Fields are the members of a struct member, or of the first element
	// of an array of structs (their Path has [0]).
	Fields []Field

	kind     kind              // the member's kind; for an array, its elements'
	dims     []int64           // array dimensions, outermost first; nil if not an array
	elemSize int64             // for an array, the size of one (innermost) element
	flexible bool              // a flexible array member (x[]): no size
	rel      int64             // offset within the struct that has it as a member
	align    int64             // its alignment in that struct, __alignof__(s.member): 1 if packed
	typAlign int64             // its type's alignment (its elements'), _Alignof
	decl     dwarf.Type        // a struct or array-of-struct member's element type as declared
	st       *dwarf.StructType // and the struct it is
}

// kind is what a C member or Go field holds, for comparing the two.
type kind int

// The kinds compared.
const (
	kInt     kind = iota + 1 // integers of any signedness, char, enum
	kBool                    // _Bool, Go bool
	kFloat                   // float, double, long double
	kPointer                 // C pointers (Go has none: refused)
	kStruct
	kUnion // compared as opaque bytes
)

// String names the kind in notes.
func (k kind) String() string {
	switch k {
	case kInt:
		return "an integer"
	case kBool:
		return "a boolean"
	case kFloat:
		return "a floating-point number"
	case kPointer:
		return "a pointer"
	case kStruct:
		return "a struct"
	case kUnion:
		return "a union"
	}
	return "unknown"
}

// count is the number of elements of an array member (all dimensions
// multiplied; 0 for a flexible array member), or 1.
func (f *Field) count() int64 {
	n := int64(1)
	for _, d := range f.dims {
		if d <= 0 {
			return 0
		}
		n *= d
	}
	return n
}

// All returns every member, depth first: each member followed by its own
// members, as the table prints them.
func (l *Layout) All() []Field {
	var out []Field
	var walk func([]Field)
	walk = func(fs []Field) {
		for _, f := range fs {
			out = append(out, f)
			walk(f.Fields)
		}
	}
	walk(l.Fields)
	return out
}

// The names the probes give their symbols.
const (
	probeVar     = "__layout_probe"
	probePtr     = "__layout_probe_ptr"
	probeConsts  = "__layout_consts"
	probeOffsets = "__layout_offsets"
)

// Measure returns the layout of the C struct type cType ("struct stats",
// or a typedef name such as "stats_t") declared in the header file at path
// header, as the C compiler (`go env CC`) lays it out with the extra
// flags cflags (-m32, -I dir, -D X=1, ...). Nothing is linked or run.
//
// A header that does not compile is a *CompileError holding the
// compiler's output (as is a compiler that cannot be run); a type the
// header does not declare (or declares incomplete) wraps ErrNotFound.
// What no Go struct could match wraps ErrUnsupported, naming the member:
// bitfields, anonymous unions, a union, function or other non-struct as
// the type itself, complex numbers, integers wider than 8 bytes (__int128),
// floating-point numbers other than float and double (long double,
// _Float128, _Float16), a type or member aligned to more than 8 bytes, and
// a packed member (placed or aligned below its type's alignment by
// __attribute__((packed)) or #pragma pack).
func Measure(header, cType string, cflags ...string) (*Layout, error) {
	l, err := measure(header, cType, cflags)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// measure does Measure's work.
func measure(header, cType string, cflags []string) (*Layout, error) {
	typ, err := normalizeType(cType)
	if err != nil {
		return nil, err
	}
	inc, err := includeLine(header)
	if err != nil {
		return nil, err
	}
	c, err := newCompiler(header, cflags)
	if err != nil {
		return nil, err
	}
	defer c.close()

	// The probe: a variable of the type, whose debugging information
	// describes every member, and the three numbers DWARF does not hold
	// reliably: sizeof, _Alignof (C11's, not GCC's __alignof__, which
	// says 8 for a double on i386 where structs align it to 4) and the
	// target's pointer size.
	// A pointer to the type tells a function type (which the probe
	// variable declares as a function) from missing debugging
	// information.
	src := inc + fmt.Sprintf("%s %s;\n%s *%s;\nconst unsigned long long %s[3] = { sizeof(%s), _Alignof(%s), sizeof(void *) };\n",
		typ, probeVar, typ, probePtr, probeConsts, typ, typ)
	obj, err := c.compile("probe", src)
	if err != nil {
		var ce *CompileError
		if !errors.As(err, &ce) || ce.notRun() {
			return nil, err
		}
		// Is it the header, or the type?
		if _, herr := c.compile("header", inc); herr != nil {
			return nil, herr
		}
		return nil, fmt.Errorf("layout: %s in %s: %w (or incomplete); the compiler says:\n%s", typ, header, ErrNotFound, strings.TrimRight(ce.Output, "\n"))
	}
	defer obj.Close()
	consts, err := readConsts(obj, probeConsts, 3)
	if err != nil {
		return nil, err
	}
	d, err := obj.DWARF()
	if err != nil {
		return nil, fmt.Errorf("layout: the debugging information of the probe: %w", err)
	}
	m := &measurer{d: d, ptrSize: int64(consts[2]), where: "C " + typ}
	decl, err := m.probeType(typ)
	if err != nil {
		return nil, err
	}
	ut := m.resolve(decl)
	st, ok := ut.(*dwarf.StructType)
	switch {
	case ok && st.Kind == "union":
		return nil, unsupported("C "+typ, "a union has no single layout to compare with a Go struct")
	case !ok || st.Kind != "struct":
		what := m.cName(decl)
		if u := m.cName(ut); u != what {
			what += ", " + u
		}
		return nil, unsupported("C "+typ, "not a struct (it is %s)", what)
	}
	fields, err := m.fields(st, "", 0)
	if err != nil {
		return nil, err
	}
	l := &Layout{
		Type:    typ,
		Header:  header,
		CFlags:  append([]string(nil), cflags...),
		Size:    int64(consts[0]),
		Align:   int64(consts[1]),
		PtrSize: int64(consts[2]),
		Fields:  fields,
		anon:    m.anon,
		decl:    decl,
		st:      st,
	}
	if st.ByteSize != l.Size {
		return nil, fmt.Errorf("layout: %s: the debugging information says size %d, sizeof says %d; please report this", typ, st.ByteSize, l.Size)
	}
	if err := crossCheck(c, inc, l); err != nil {
		return nil, err
	}
	if err := alignCheck(l); err != nil {
		return nil, err
	}
	return l, nil
}

// attrGNUDwoName is DW_AT_GNU_dwo_name, which GCC's -gsplit-dwarf writes
// in DWARF 4 (DWARF 5 has DW_AT_dwo_name).
const attrGNUDwoName dwarf.Attr = 0x2130

// probeType finds the type of the probe variable in the debugging
// information. typ names it in messages.
func (m *measurer) probeType(typ string) (dwarf.Type, error) {
	r := m.d.Reader()
	var ptrOff dwarf.Offset
	havePtr, split := false, false
	for {
		e, err := r.Next()
		if err != nil {
			return nil, fmt.Errorf("layout: reading the debugging information: %w", err)
		}
		if e == nil {
			break
		}
		unit := false
		switch e.Tag {
		case dwarf.TagCompileUnit, dwarf.TagSkeletonUnit, dwarf.TagPartialUnit:
			unit = true
			if e.Tag == dwarf.TagSkeletonUnit || e.Val(dwarf.AttrDwoName) != nil || e.Val(attrGNUDwoName) != nil {
				split = true
			}
		case dwarf.TagVariable:
			switch e.Val(dwarf.AttrName) {
			case probeVar:
				off, ok := e.Val(dwarf.AttrType).(dwarf.Offset)
				if !ok {
					return nil, errors.New("layout: the probe variable has no type in the debugging information")
				}
				t, err := m.d.Type(off)
				if err != nil {
					return nil, fmt.Errorf("layout: reading the type from the debugging information: %w", err)
				}
				return t, nil
			case probePtr:
				ptrOff, havePtr = e.Val(dwarf.AttrType).(dwarf.Offset)
			}
		}
		if e.Children && !unit {
			r.SkipChildren()
		}
	}
	// No variable of the type: is it a function type (T x; declares a
	// function), or is the debugging information elsewhere?
	if havePtr {
		if t, err := m.d.Type(ptrOff); err == nil {
			if pt, ok := t.(*dwarf.PtrType); ok {
				if _, ok := m.resolve(pt.Type).(*dwarf.FuncType); ok {
					return nil, unsupported(m.where, "not an object type (it is a function type, %s): a function has no layout", m.cName(pt.Type))
				}
			}
		}
		return nil, fmt.Errorf("layout: %s: the probe variable is missing from the debugging information; please report this", typ)
	}
	if split {
		return nil, fmt.Errorf("layout: %s: no DWARF in the object the C compiler wrote: split DWARF (-gsplit-dwarf, in CC or the flags) moves it into a .dwo file; drop it", typ)
	}
	return nil, fmt.Errorf("layout: %s: no DWARF in the object the C compiler wrote (split DWARF? the flags and CC must allow -g to describe the type)", typ)
}

// crossCheck compiles offsetof and sizeof of every member, as the compiler
// itself computes them, and compares them with what was read from the
// debugging information.
func crossCheck(c *compiler, inc string, l *Layout) error {
	all := l.All()
	var b strings.Builder
	b.WriteString(inc)
	fmt.Fprintf(&b, "const unsigned long long %s[%d] = {\n", probeOffsets, perMember*len(all)+1)
	for _, f := range all {
		member := fmt.Sprintf("((%s *)0)->%s", l.Type, f.Path)
		elem := member
		for range f.dims {
			elem += "[0]"
		}
		// The member's alignment in its struct (GCC and Clang give a
		// member's own, 1 when packed; C11's _Alignof takes only types)
		// and its type's.
		size, align := "sizeof("+member+")", "__alignof__("+member+")"
		if f.flexible {
			// sizeof and __alignof__ of an incomplete array are errors
			// in some compilers.
			size, align = "0", "__alignof__("+elem+")"
		}
		fmt.Fprintf(&b, "\t__builtin_offsetof(%s, %s), %s, %s, _Alignof(__typeof__(%s)),\n", l.Type, f.Path, size, align, elem)
	}
	b.WriteString("\t0\n};\n")
	obj, err := c.compile("offsets", b.String())
	if err != nil {
		var ce *CompileError
		if errors.As(err, &ce) {
			ce.what = fmt.Sprintf("the offsetof and sizeof probe of %s in %s did not compile (please report this)", l.Type, l.Header)
		}
		return err
	}
	defer obj.Close()
	vals, err := readConsts(obj, probeOffsets, perMember*len(all))
	if err != nil {
		return err
	}
	aligns := map[string][2]int64{}
	for i, f := range all {
		v := vals[perMember*i:]
		off, size := int64(v[0]), int64(v[1])
		if off != f.Offset || (!f.flexible && size != f.Size) {
			return fmt.Errorf("layout: %s: the debugging information puts %s at offset %d, size %d; offsetof and sizeof say %d and %d (is %s a macro?)",
				l.Type, f.Path, f.Offset, f.Size, off, size, f.Name)
		}
		aligns[f.Path] = [2]int64{int64(v[2]), int64(v[3])}
	}
	setAligns(l.Fields, aligns)
	return nil
}

// perMember is the number of values crossCheck asks of each member:
// offsetof, sizeof, __alignof__ and _Alignof of its type.
const perMember = 4

// setAligns records the alignments crossCheck measured in fs and their
// members, by path.
func setAligns(fs []Field, aligns map[string][2]int64) {
	for i := range fs {
		a := aligns[fs[i].Path]
		fs[i].align, fs[i].typAlign = a[0], a[1]
		setAligns(fs[i].Fields, aligns)
	}
}

// maxGoAlign is the largest alignment a Go type has, on every GOARCH:
// 8, for int64, float64 and uint64 on 64-bit targets and for
// atomic.Int64 and atomic.Uint64 everywhere (on 386 plain int64 is aligned
// to 4; a zero-length array of atomic.Int64 gives a struct or the field
// after it 8).
const maxGoAlign = 8

// alignCheck refuses what no Go struct can match, whatever its fields: a
// member or type aligned to more than any Go type is, and a packed member
// (at an offset, or with an alignment, below its type's alignment: Go
// aligns every field to its type's alignment, and a struct to its
// fields'). A packed flexible array member is let through: it occupies
// nothing, and a Go struct leaves it out.
func alignCheck(l *Layout) error {
	where := "C " + l.Type
	all := l.All()
	for _, f := range all {
		if a := max(f.align, f.typAlign); a > maxGoAlign {
			by := "its type"
			if f.align > f.typAlign {
				by = "an aligned attribute or _Alignas on the member"
			}
			return unsupported(where, "field %s (%s) is aligned to %d bytes (by %s), and no Go type is aligned to more than %d", f.Path, f.Type, a, by, maxGoAlign)
		}
	}
	if l.Align > maxGoAlign {
		return unsupported(where, "%s is aligned to %d bytes (by an aligned attribute on the type?), and no Go type is aligned to more than %d", l.Type, l.Align, maxGoAlign)
	}
	for _, f := range all {
		if f.flexible || f.typAlign <= 0 {
			continue
		}
		// Within its struct, and from the start of the type (a C11
		// anonymous struct member has no Field of its own to be found
		// packed): in a layout without packing, both are multiples of
		// the type's alignment.
		if f.align < f.typAlign || f.rel%f.typAlign != 0 || f.Offset%f.typAlign != 0 {
			return unsupported(where, "field %s (%s) is at offset %d, aligned to %d where its type needs %d: the struct is packed (__attribute__((packed)) or #pragma pack), and Go aligns every field as its type",
				f.Path, f.Type, f.Offset, f.align, f.typAlign)
		}
	}
	return nil
}

// measurer walks the C type in the debugging information.
type measurer struct {
	d       *dwarf.Data
	ptrSize int64
	where   string   // "C struct stats", for messages
	anon    []string // anonymous struct members seen
	atomics map[*dwarf.UnsupportedType]dwarf.Type
}

// resolve strips typedefs and qualifiers (const, volatile, restrict,
// _Atomic) from t.
func (m *measurer) resolve(t dwarf.Type) dwarf.Type {
	for range 100 { // typedef chains are short; this bounds a cycle
		switch tt := t.(type) {
		case *dwarf.TypedefType:
			t = tt.Type
		case *dwarf.QualType:
			t = tt.Type
		case *dwarf.UnsupportedType:
			if tt.Tag != dwarf.TagAtomicType {
				return t
			}
			under, err := m.atomicBase(tt)
			if err != nil {
				return t
			}
			t = under
		default:
			return t
		}
	}
	return t
}

// atomicBase returns the type an _Atomic qualifier applies to, which
// debug/dwarf does not decode (it gives an UnsupportedType, without its
// offset): the atomic type entries are found once and mapped by the
// pointer debug/dwarf caches for each.
func (m *measurer) atomicBase(t *dwarf.UnsupportedType) (dwarf.Type, error) {
	if m.atomics == nil {
		m.atomics = map[*dwarf.UnsupportedType]dwarf.Type{}
		r := m.d.Reader()
		for {
			e, err := r.Next()
			if err != nil || e == nil {
				break
			}
			if e.Tag != dwarf.TagAtomicType {
				continue
			}
			toff, ok := e.Val(dwarf.AttrType).(dwarf.Offset)
			if !ok {
				continue
			}
			at, err1 := m.d.Type(e.Offset)
			base, err2 := m.d.Type(toff)
			if u, ok := at.(*dwarf.UnsupportedType); ok && err1 == nil && err2 == nil {
				m.atomics[u] = base
			}
		}
	}
	if base, ok := m.atomics[t]; ok {
		return base, nil
	}
	return nil, errors.New("an _Atomic type not found in the debugging information")
}

// fields returns the members of st, whose first byte is at base in the
// outermost type; their paths begin with prefix.
func (m *measurer) fields(st *dwarf.StructType, prefix string, base int64) ([]Field, error) {
	var out []Field
	for _, sf := range st.Field {
		if sf.BitSize != 0 {
			name := "an unnamed bitfield"
			if sf.Name != "" {
				name = "field " + prefix + sf.Name + " is a bitfield"
			}
			return nil, unsupported(m.where, "%s (%d bits): bitfield layout is the compiler's choice and Go has none", name, sf.BitSize)
		}
		if sf.Name == "" {
			ut := m.resolve(sf.Type)
			s, ok := ut.(*dwarf.StructType)
			if ok && s.Kind == "struct" {
				sub, err := m.fields(s, prefix, base+sf.ByteOffset)
				if err != nil {
					return nil, err
				}
				names := make([]string, len(sub))
				for i := range sub {
					names[i] = sub[i].Path
				}
				m.anon = append(m.anon, fmt.Sprintf("the anonymous struct at offset %d (%s)", base+sf.ByteOffset, strings.Join(names, ", ")))
				out = append(out, sub...)
				continue
			}
			if ok && s.Kind == "union" {
				var names []string
				for _, u := range s.Field {
					names = append(names, u.Name)
				}
				return nil, unsupported(m.where, "an anonymous union at offset %d (members %s) has no name to match a Go field; give it one (union {...} u;)",
					base+sf.ByteOffset, strings.Join(names, ", "))
			}
			return nil, unsupported(m.where, "an unnamed member at offset %d (%s)", base+sf.ByteOffset, m.cName(sf.Type))
		}
		f, err := m.field(sf.Name, prefix+sf.Name, base+sf.ByteOffset, sf.Type)
		if err != nil {
			return nil, err
		}
		f.rel = sf.ByteOffset
		out = append(out, f)
	}
	return out, nil
}

// field describes the member name, of declared type t, at offset off.
func (m *measurer) field(name, path string, off int64, t dwarf.Type) (Field, error) {
	f := Field{Name: name, Path: path, Offset: off, Type: m.cName(t)}
	// Peel array dimensions, through typedefs of arrays.
	elem := t
	for {
		at, ok := m.resolve(elem).(*dwarf.ArrayType)
		if !ok {
			break
		}
		f.dims = append(f.dims, at.Count)
		elem = at.Type
	}
	leaf := m.resolve(elem)
	switch lt := leaf.(type) {
	case *dwarf.StructType:
		if lt.Incomplete {
			return f, unsupported(m.where, "field %s has the incomplete type %s", path, m.cName(elem))
		}
		f.elemSize = lt.ByteSize
		if lt.Kind == "union" {
			f.kind = kUnion
			break
		}
		if lt.Kind != "struct" {
			return f, unsupported(m.where, "field %s is a %s", path, lt.Kind)
		}
		f.kind = kStruct
		f.decl, f.st = elem, lt
		sub := path
		for range f.dims {
			sub += "[0]"
		}
		fs, err := m.fields(lt, sub+".", off)
		if err != nil {
			return f, err
		}
		f.Fields = fs
	case *dwarf.IntType, *dwarf.UintType, *dwarf.CharType, *dwarf.UcharType, *dwarf.EnumType:
		f.kind, f.elemSize = kInt, leaf.Size()
		if f.elemSize > 8 {
			return f, unsupported(m.where, "field %s is a %d-byte integer (%s): Go has no integer wider than 8 bytes", path, f.elemSize, m.cName(elem))
		}
	case *dwarf.BoolType:
		f.kind, f.elemSize = kBool, leaf.Size()
	case *dwarf.FloatType:
		f.kind, f.elemSize = kFloat, leaf.Size()
		if f.elemSize != 4 && f.elemSize != 8 {
			return f, unsupported(m.where, "field %s is a %d-byte floating-point number (%s): Go has only float32 and float64", path, f.elemSize, m.cName(elem))
		}
	case *dwarf.PtrType:
		f.kind, f.elemSize = kPointer, leaf.Size()
		if f.elemSize <= 0 {
			f.elemSize = m.ptrSize
		}
	case *dwarf.ComplexType:
		return f, unsupported(m.where, "field %s is a complex number (%s)", path, m.cName(t))
	default:
		return f, unsupported(m.where, "field %s has the type %s", path, m.cName(t))
	}
	f.Size = f.elemSize
	if f.dims != nil {
		f.Size = f.count() * f.elemSize
		// A flexible array member (x[], or GNU's x[0]): sizeof may not
		// be applied to the former, and DWARF cannot tell them apart.
		f.flexible = f.count() == 0
		if at, ok := t.(*dwarf.ArrayType); ok && f.flexible && at.Count == 0 {
			// The debugging information says x[0]: spell it x[].
			flex := *at
			flex.Count = -1
			f.Type = m.cName(&flex)
		}
	}
	return f, nil
}

// cName spells t as C does, as far as a table needs: "unsigned int",
// "uint64_t", "struct rec", "char[32]", "int[2][3]", "char *".
func (m *measurer) cName(t dwarf.Type) string {
	switch t := t.(type) {
	case *dwarf.TypedefType:
		return t.Name
	case *dwarf.StructType:
		if t.StructName != "" {
			return t.Kind + " " + t.StructName
		}
		return t.Kind + " {...}"
	case *dwarf.EnumType:
		if t.EnumName != "" {
			return "enum " + t.EnumName
		}
		return "enum {...}"
	case *dwarf.ArrayType:
		var dims strings.Builder
		var elem dwarf.Type = t
		for {
			at, ok := elem.(*dwarf.ArrayType)
			if !ok {
				break
			}
			if at.Count < 0 {
				dims.WriteString("[]")
			} else {
				dims.WriteString("[" + strconv.FormatInt(at.Count, 10) + "]")
			}
			elem = at.Type
		}
		return m.cName(elem) + dims.String()
	case *dwarf.PtrType:
		if _, ok := t.Type.(*dwarf.FuncType); ok {
			return "function pointer"
		}
		elem := m.cName(t.Type)
		if strings.HasSuffix(elem, "*") {
			return elem + "*"
		}
		return elem + " *"
	case *dwarf.QualType:
		return t.Qual + " " + m.cName(t.Type)
	case *dwarf.UnsupportedType:
		if t.Tag == dwarf.TagAtomicType {
			if base, err := m.atomicBase(t); err == nil {
				return "_Atomic " + m.cName(base)
			}
		}
		return t.String()
	case *dwarf.VoidType:
		return "void"
	case *dwarf.FuncType:
		return "function"
	case nil:
		return "void"
	}
	return t.String()
}
