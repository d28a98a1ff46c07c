package layout

import (
	"bytes"
	"debug/dwarf"
	"errors"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// GoDefs returns Go source, in package pkg, declaring a struct type with
// the layout of the C struct type cType declared in header (with the
// extra compiler flags cflags), and one for each struct type it nests.
// The declarations are cgo's own: GoDefs runs `go tool cgo -godefs` on a
// generated file holding
//
//	// #include "/abs/header"
//	import "C"
//	type Stats C.struct_stats
//	type Rec C.struct_rec // for each nested struct type
//
// with GOARCH=386 when the C compiler targets i386 (cflags hold -m32) on
// an amd64 machine. It needs the go tool on PATH.
// cgo's output is then adjusted only where it would not compile or would
// not suit shared memory: C pointers become uintptr (a Go pointer into
// shared memory is invisible to the garbage collector, and meaningless in
// another process); the nested anonymous struct types cgo leaves unnamed
// (_Ctype_struct___0) get the names declared for them (Stats_inner); a
// field whose name cgo shortened (st_dev becomes Dev) is tagged c:"st_dev"
// so that Check matches it. The result passes Check with the same cflags.
//
// The Go type is named after the C type: its tag or typedef name with the
// first letter upper-cased (struct stats gives Stats, stats_t Stats_t).
// What Measure refuses, GoDefs refuses too (bitfields, anonymous unions,
// packed or over-aligned members, long double, ...: what no Go struct
// matches), and a C11 anonymous struct member, whose type cgo cannot name.
//
// Two outputs of GoDefs cannot share a Go package: each declares every
// struct type its type nests, so a struct nested in both (or one type
// nested in the other) is declared twice, and the names of anonymous
// nested struct types depend on the outer type. To put several C types in
// one package, declare them in one call with GoDefsTypes, which declares
// each nested type once.
func GoDefs(pkg, header, cType string, cflags ...string) ([]byte, error) {
	return GoDefsTypes(pkg, header, []string{cType}, cflags...)
}

// GoDefsTypes is GoDefs for several C types of one header at once: the Go
// source declares a struct type for each of cTypes (in that order, each
// once, whichever way it is named in cTypes) and for every struct type
// they nest, each struct type once, so that the declarations can make up
// one Go package. The first line of the output names the C types.
func GoDefsTypes(pkg, header string, cTypes []string, cflags ...string) ([]byte, error) {
	if !token.IsIdentifier(pkg) {
		return nil, fmt.Errorf("layout: %q is not a Go package name: %w", pkg, fs.ErrInvalid)
	}
	if len(cTypes) == 0 {
		return nil, fmt.Errorf("layout: no C type to declare in Go: %w", fs.ErrInvalid)
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("layout: GoDefs runs `go tool cgo -godefs`, and the go tool is not on PATH: %w", err)
	}
	var layouts []*Layout
	seen := map[string]bool{}
	for _, cType := range cTypes {
		l, err := measure(header, cType, cflags)
		if err != nil {
			return nil, err
		}
		if len(l.anon) > 0 {
			return nil, unsupported("C "+l.Type, "cgo -godefs cannot name the type of %s; give the member a name", l.anon[0])
		}
		if !seen[l.Type] {
			seen[l.Type] = true
			layouts = append(layouts, l)
		}
	}
	inc, err := includeLine(header)
	if err != nil {
		return nil, err
	}
	g := newGodefsNames(layouts)

	var src strings.Builder
	fmt.Fprintf(&src, "package %s\n\n/*\n%s", pkg, inc)
	for _, d := range g.decls {
		if d.helper != "" {
			fmt.Fprintf(&src, "typedef __typeof__(((%s *)0)->%s) %s;\n", d.top, d.helper, d.cRef)
		}
	}
	src.WriteString("*/\nimport \"C\"\n\n")
	for _, d := range g.decls {
		fmt.Fprintf(&src, "type %s C.%s\n", d.goName, d.cRef)
	}

	dir, err := os.MkdirTemp("", "layout-godefs-")
	if err != nil {
		return nil, fmt.Errorf("layout: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "types.go"), []byte(src.String()), 0o600); err != nil {
		return nil, fmt.Errorf("layout: %w", err)
	}
	args := []string{"tool", "cgo", "-objdir", filepath.Join(dir, "obj"), "-godefs", "--"}
	args = append(args, cflags...)
	args = append(args, filepath.Join(dir, "types.go"))
	// In the caller's directory, for relative paths in cflags; cgo
	// writes only into -objdir.
	cmd := exec.Command(goTool, args...)
	// cgo sizes Go's types for GOARCH (and passes -m32 for 386): make it
	// the C compiler's target as measured, whatever GOARCH the caller
	// runs under.
	goarch, err := cgoArch(goTool, layouts[0].PtrSize)
	if err != nil {
		return nil, err
	}
	cmd.Env = append(os.Environ(), "CC="+strings.Join(compilerCommand(), " "), "CGO_ENABLED=1", "GOARCH="+goarch)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("layout: go %s: %v:\n%s", strings.Join(args, " "), err, strings.TrimRight(stderr.String(), "\n"))
	}
	return g.fix(stdout.Bytes(), header, cflags)
}

// cgoArch returns the GOARCH matching a C target of pointer size
// ptrSize on this machine: 386 for a 4-byte target on an amd64 host, amd64
// for an 8-byte one on a 386 host, else the host's.
func cgoArch(goTool string, ptrSize int64) (string, error) {
	out, err := exec.Command(goTool, "env", "GOHOSTARCH").Output()
	if err != nil {
		return "", fmt.Errorf("layout: go env GOHOSTARCH: %w", err)
	}
	host := strings.TrimSpace(string(out))
	switch {
	case host == "amd64" && ptrSize == 4:
		return "386", nil
	case host == "386" && ptrSize == 8:
		return "amd64", nil
	}
	return host, nil
}

// godefsDecl is one type declaration of the generated file.
type godefsDecl struct {
	goName  string            // Stats
	cRef    string            // what follows C.: struct_stats, stats_t, __layout_t1
	top     string            // the outer C type it was found in: struct stats
	helper  string            // for an anonymous type: the member path (in top) whose type __layout_tN is
	members []Field           // the C struct's members
	st      *dwarf.StructType // the C struct
}

// godefsNames names the Go types of the structs and of every struct type
// they nest.
type godefsNames struct {
	decls  []godefsDecl
	byType map[*dwarf.StructType]string // C struct (of any of the layouts) -> Go name
	byName map[string]*godefsDecl
	cTypes []string // the outer C types, as named
}

// newGodefsNames chooses the Go names: the C tag or typedef name with the
// first letter upper-cased; for an anonymous struct type, the outer
// type's name and the member's path (Stats_inner). The outer types come
// first, in order, then the types they nest; a type cgo names the same
// way (struct_rec) is declared once, whichever layout it is found in.
func newGodefsNames(layouts []*Layout) *godefsNames {
	g := &godefsNames{byType: map[*dwarf.StructType]string{}, byName: map[string]*godefsDecl{}}
	used := map[string]bool{}
	unique := func(name string) string {
		n := name
		for i := 2; used[n]; i++ {
			n = name + "_" + strconv.Itoa(i)
		}
		used[n] = true
		return n
	}
	byRef := map[string]string{} // cgo's name -> Go name
	tops := make([]string, len(layouts))
	for i, l := range layouts {
		g.cTypes = append(g.cTypes, l.Type)
		name, ref := cTypeRef(l.decl, l.st)
		if goName, ok := byRef[ref]; ok {
			g.byType[l.st], tops[i] = goName, goName
			continue
		}
		d := godefsDecl{goName: unique(exportedName(name)), cRef: ref, top: l.Type, members: l.Fields, st: l.st}
		g.decls = append(g.decls, d)
		g.byType[l.st], byRef[ref], tops[i] = d.goName, d.goName, d.goName
	}
	helpers := 0
	for i, l := range layouts {
		for _, f := range l.All() {
			if f.st == nil || g.byType[f.st] != "" {
				continue
			}
			d := godefsDecl{top: l.Type, members: f.Fields, st: f.st}
			name, ref := cTypeRef(f.decl, f.st)
			if goName, ok := byRef[ref]; ok && name != "" {
				g.byType[f.st] = goName
				continue
			}
			if name != "" {
				d.goName, d.cRef = unique(exportedName(name)), ref
				byRef[ref] = d.goName
			} else {
				path := f.Path
				for range f.dims {
					path += "[0]"
				}
				helpers++
				d.helper = path
				d.cRef = "__layout_t" + strconv.Itoa(helpers)
				d.goName = unique(tops[i] + "_" + strings.NewReplacer("[0]", "", ".", "_").Replace(f.Path))
			}
			// The members' paths are those of the first use; only their
			// names, order and types matter here.
			g.decls = append(g.decls, d)
			g.byType[f.st] = d.goName
		}
	}
	for i := range g.decls {
		g.byName[g.decls[i].goName] = &g.decls[i]
	}
	return g
}

// cTypeRef returns the name of a struct type as declared (its typedef
// name, or its tag; "" if anonymous) and how cgo refers to it.
func cTypeRef(decl dwarf.Type, st *dwarf.StructType) (name, ref string) {
	for {
		q, ok := decl.(*dwarf.QualType)
		if !ok {
			break
		}
		decl = q.Type
	}
	if td, ok := decl.(*dwarf.TypedefType); ok {
		return td.Name, td.Name
	}
	if st.StructName != "" {
		return st.StructName, "struct_" + st.StructName
	}
	return "", ""
}

// cgoPaddingRE matches the padding fields cgo -godefs writes.
var cgoPaddingRE = regexp.MustCompile(`^(_|Pad_cgo_[0-9]+)$`)

// fix adjusts cgo's output (see GoDefs) and formats it.
func (g *godefsNames) fix(out []byte, header string, cflags []string) ([]byte, error) {
	// cgo's first two lines name the generated file; say where the
	// declarations come from instead.
	lines := strings.SplitN(string(out), "\n", 3)
	if len(lines) < 3 || !strings.HasPrefix(lines[0], "// Code generated by cmd/cgo -godefs") {
		return nil, fmt.Errorf("layout: unexpected output from cgo -godefs:\n%s", out)
	}
	how := "cgo -godefs"
	for _, f := range cflags {
		how += " " + f
	}
	src := fmt.Sprintf("// Code generated by %s (github.com/shmmap/shmmap/layout) from %s in %s; DO NOT EDIT.\n%s",
		how, strings.Join(g.cTypes, ", "), filepath.Base(header), lines[2])
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "godefs.go", src, parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("layout: parsing cgo -godefs's output: %v\n%s", err, out)
	}
	for _, decl := range file.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, spec := range gd.Specs {
			ts := spec.(*ast.TypeSpec)
			st, ok := ts.Type.(*ast.StructType)
			d := g.byName[ts.Name.Name]
			if !ok || d == nil {
				continue
			}
			if err := g.fixStruct(ts.Name.Name, st, d); err != nil {
				return nil, err
			}
		}
	}
	var b bytes.Buffer
	if err := format.Node(&b, fset, file); err != nil {
		return nil, fmt.Errorf("layout: formatting cgo -godefs's output: %w", err)
	}
	return b.Bytes(), nil
}

// fixStruct lines up the fields of one struct cgo wrote with the C
// members, and fixes their names and types.
func (g *godefsNames) fixStruct(name string, st *ast.StructType, d *godefsDecl) error {
	var members []Field
	for _, m := range d.members {
		if m.Size > 0 { // cgo leaves out flexible array members
			members = append(members, m)
		}
	}
	var fields []*ast.Field
	for _, f := range st.Fields.List {
		if len(f.Names) == 1 && cgoPaddingRE.MatchString(f.Names[0].Name) {
			continue
		}
		if len(f.Names) != 1 {
			return fmt.Errorf("layout: cgo -godefs wrote an unexpected field list in %s", name)
		}
		fields = append(fields, f)
	}
	if len(fields) != len(members) {
		return fmt.Errorf("layout: cgo -godefs wrote %d fields in %s, the C type has %d members", len(fields), name, len(members))
	}
	for i, f := range fields {
		m := &members[i]
		goName := f.Names[0].Name
		if !strings.EqualFold(goName, m.Name) && !strings.EqualFold(goName, "X"+m.Name) {
			f.Tag = &ast.BasicLit{Kind: token.STRING, Value: "`c:\"" + m.Name + "\"`"}
		}
		typ, err := g.fixType(f.Type, m)
		if err != nil {
			return fmt.Errorf("layout: %s.%s: %w", name, goName, err)
		}
		f.Type = typ
	}
	return nil
}

// fixType returns the Go type of member m as cgo wrote it, with pointers
// as uintptr and unnamed struct types named.
func (g *godefsNames) fixType(t ast.Expr, m *Field) (ast.Expr, error) {
	switch tt := t.(type) {
	case *ast.ArrayType:
		elt, err := g.fixType(tt.Elt, m)
		if err != nil {
			return nil, err
		}
		tt.Elt = elt
		return tt, nil
	case *ast.StarExpr:
		return ast.NewIdent("uintptr"), nil
	case *ast.Ident:
		if !strings.HasPrefix(tt.Name, "_Ctype_") {
			return tt, nil
		}
		if m.st != nil && g.byType[m.st] != "" {
			return ast.NewIdent(g.byType[m.st]), nil
		}
		return nil, errors.New("cgo -godefs left the C type " + tt.Name + " unnamed")
	}
	return t, nil
}
