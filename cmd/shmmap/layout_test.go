package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/shmmap/shmmap/shmtest"
)

// shapeH is the header the layout tests measure: long, a pointer, double
// and long long make the x86-64 and i386 layouts differ; nested structs,
// an array of structs, a two-dimensional array and padding everywhere.
const shapeH = `#include <stdint.h>
struct point { int16_t x, y; };
struct shape {
	char name[13];
	long id;
	struct point pts[3];
	double area;
	struct { uint8_t r, g, b; } color;
	char *label;
	int32_t grid[2][2];
	long long big;
	uint16_t tail;
};
typedef struct shape shape_t;
struct other { int32_t a; };
`

// shapeRef prints what the C compiler says of struct shape: "sizeof N",
// "align N", "pointer N", then "PATH OFFSET SIZE" for every member.
const shapeRef = `#include <stdio.h>
#include <stddef.h>
#include "shape.h"
#define F(p) printf("%s %zu %zu\n", #p, offsetof(struct shape, p), sizeof(((struct shape *)0)->p))
int main(void) {
	printf("sizeof %zu\nalign %zu\npointer %zu\n", sizeof(struct shape), _Alignof(struct shape), sizeof(void *));
	F(name); F(id); F(pts); F(pts[0].x); F(pts[0].y); F(area);
	F(color); F(color.r); F(color.g); F(color.b);
	F(label); F(grid); F(big); F(tail);
	return 0;
}
`

// cLayout is struct shape as the C program measured it.
type cLayout struct {
	size, align, pointer int64
	members              map[string][2]int64 // path -> offset, size
}

// shapeFiles writes shape.h and returns its path, with the C program's
// measurements for cflags. With -m32 it skips the test, saying why, where
// 32-bit C programs cannot be built or run here.
func shapeFiles(t *testing.T, cflags ...string) (string, *cLayout) {
	t.Helper()
	if slices.Contains(cflags, "-m32") {
		shmtest.Require32(t)
	}
	dir := shmtest.SharedDir(t)
	header := filepath.Join(dir, "shape.h")
	src := filepath.Join(dir, "ref.c")
	if err := os.WriteFile(header, []byte(shapeH), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(src, []byte(shapeRef), 0o644); err != nil {
		t.Fatal(err)
	}
	res := shmtest.Run(t, exec.Command(shmtest.BuildC(t, src, cflags...)))
	if res.Status != 0 {
		t.Fatalf("the %v reference: %+v", cflags, res)
	}
	ref := &cLayout{members: map[string][2]int64{}}
	for _, line := range strings.Split(strings.TrimSpace(res.Stdout), "\n") {
		w := strings.Fields(line)
		a, _ := strconv.ParseInt(w[1], 10, 64)
		switch w[0] {
		case "sizeof":
			ref.size = a
		case "align":
			ref.align = a
		case "pointer":
			ref.pointer = a
		default:
			b, _ := strconv.ParseInt(w[2], 10, 64)
			ref.members[w[0]] = [2]int64{a, b}
		}
	}
	return header, ref
}

// abis are the layouts the tests check: the native one, and i386 with
// --m32.
var abis = []struct {
	name   string
	flags  []string // for shmmap layout
	cflags []string // for the C reference
}{{"native", nil, nil}, {"m32", []string{"--m32"}, []string{"-m32"}}}

// TestLayoutTable: shmmap layout prints the size, alignment and pointer
// size, and one row per member with the offset and size the C program
// measured, and nothing else but (padding) rows; the type may be given
// as one argument, two, or a typedef name, with flags after the arguments.
func TestLayoutTable(t *testing.T) {
	for _, abi := range abis {
		t.Run(abi.name, func(t *testing.T) {
			header, ref := shapeFiles(t, abi.cflags...)
			forms := [][]string{
				append(append([]string{"layout"}, abi.flags...), header, "struct shape"),
				append([]string{"layout", header, "struct", "shape"}, abi.flags...),
				append(append([]string{"layout"}, abi.flags...), header, "shape_t"),
			}
			for i, args := range forms {
				out := mustShmmap(t, args...)
				lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
				name := "struct shape"
				if i == 2 {
					name = "shape_t"
				}
				want := fmt.Sprintf("%s: size %d, align %d (sizeof(void *) = %d)", name, ref.size, ref.align, ref.pointer)
				if lines[0] != want {
					t.Errorf("%q: first line %q, want %q", args, lines[0], want)
				}
				seen := map[string]bool{}
				for _, row := range lines[2:] {
					w := strings.Fields(row)
					if w[0] == "(padding)" {
						continue
					}
					off, _ := strconv.ParseInt(w[1], 10, 64)
					size, _ := strconv.ParseInt(w[2], 10, 64)
					m, ok := ref.members[w[0]]
					if !ok || m != [2]int64{off, size} {
						t.Errorf("%q: row %q; C says %v (present %v)", args, row, m, ok)
					}
					seen[w[0]] = true
				}
				for p := range ref.members {
					if !seen[p] {
						t.Errorf("%q: no row for %s:\n%s", args, p, out)
					}
				}
			}
			// Types as the header spells them.
			out := mustShmmap(t, append(append([]string{"layout"}, abi.flags...), header, "struct shape")...)
			for _, row := range []string{"name ", "pts ", "grid ", "label "} {
				want := map[string]string{"name ": "char[13]", "pts ": "struct point[3]", "grid ": "int32_t[2][2]", "label ": "char *"}[row]
				found := false
				for _, line := range strings.Split(out, "\n") {
					if strings.HasPrefix(line, row) && strings.HasSuffix(line, want) {
						found = true
					}
				}
				if !found {
					t.Errorf("no row %q...%q in:\n%s", row, want, out)
				}
			}
		})
	}
}

// layoutJSONOut is what the test reads of layout --json.
type layoutJSONOut struct {
	Type        string   `json:"type"`
	Header      string   `json:"header"`
	CFlags      []string `json:"cflags"`
	Size        int64    `json:"size"`
	Align       int64    `json:"align"`
	PointerSize int64    `json:"pointer_size"`
	Fields      []struct {
		Name   string `json:"name"`
		Offset int64  `json:"offset"`
		Size   int64  `json:"size"`
		Type   string `json:"type"`
	} `json:"fields"`
}

// TestLayoutJSON: --json carries the same numbers as the C program, with
// the stable field names, every member exactly once and in order of
// offset at each level; --cflags reaches the compiler.
func TestLayoutJSON(t *testing.T) {
	for _, abi := range abis {
		t.Run(abi.name, func(t *testing.T) {
			header, ref := shapeFiles(t, abi.cflags...)
			args := append(append([]string{"layout", "--json", "--cflags", "-DUNUSED=1 '-DALSO=a b'"}, abi.flags...), header, "struct shape")
			out := mustShmmap(t, args...)
			var j layoutJSONOut
			if err := json.Unmarshal([]byte(out), &j); err != nil {
				t.Fatalf("%v:\n%s", err, out)
			}
			wantFlags := append([]string{"-DUNUSED=1", "-DALSO=a b"}, abi.cflags...)
			if j.Type != "struct shape" || j.Header != header || strings.Join(j.CFlags, "|") != strings.Join(wantFlags, "|") ||
				j.Size != ref.size || j.Align != ref.align || j.PointerSize != ref.pointer {
				t.Errorf("%+v; C says size %d, align %d, pointer %d", j, ref.size, ref.align, ref.pointer)
			}
			if len(j.Fields) != len(ref.members) {
				t.Errorf("%d fields, C has %d members:\n%s", len(j.Fields), len(ref.members), out)
			}
			for _, f := range j.Fields {
				if m := ref.members[f.Name]; m != [2]int64{f.Offset, f.Size} || f.Type == "" {
					t.Errorf("%+v; C says %v", f, m)
				}
			}
			// Every field name appears in the raw output as a key.
			for _, k := range []string{`"type"`, `"size"`, `"align"`, `"pointer_size"`, `"fields"`, `"name"`, `"offset"`, `"cflags"`, `"header"`} {
				if !strings.Contains(out, k) {
					t.Errorf("no %s in:\n%s", k, out)
				}
			}
		})
	}
}

// checkMain is a program checking the Go type shmmap layout --go wrote
// against the header with layout.Check, and, to show that the check can
// fail here, against a type it does not match.
const checkMain = `package main

import (
	"fmt"
	"os"

	"github.com/shmmap/shmmap/layout"
)

func main() {
	header, flags := os.Args[1], os.Args[2:]
	fmt.Println("shape:", layout.Check(Shape{}, header, "struct shape", flags...))
	fmt.Println("other:", layout.Check(Shape{}, header, "struct other", flags...) != nil)
}
`

// TestLayoutGoPassesCheck: the Go declarations of layout --go, compiled
// into a program of their own (a temporary module requiring this one),
// pass layout.Check against the header: as amd64 for the native layout,
// and as a 386 binary for --m32, where this machine runs one.
func TestLayoutGoPassesCheck(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go tool is not on PATH")
	}
	for _, abi := range abis {
		t.Run(abi.name, func(t *testing.T) {
			header, _ := shapeFiles(t, abi.cflags...) // skips where -m32 programs cannot run
			src := mustShmmap(t, append(append([]string{"layout", "--go"}, abi.flags...), header, "struct shape")...)
			if !strings.Contains(src, "package main") || !strings.Contains(src, "type Shape struct") {
				t.Fatalf("layout --go:\n%s", src)
			}
			mod := t.TempDir()
			root, err := filepath.Abs("../..") // the module's root, from the package directory
			if err != nil {
				t.Fatal(err)
			}
			sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
			if err != nil {
				t.Fatal(err)
			}
			files := map[string]string{
				"go.mod":   "module layoutcheck\n\ngo 1.26\n\nrequire github.com/shmmap/shmmap v0.0.0\n\nreplace github.com/shmmap/shmmap => " + root + "\n",
				"go.sum":   string(sum),
				"types.go": src,
				"main.go":  checkMain,
			}
			for name, content := range files {
				if err := os.WriteFile(filepath.Join(mod, name), []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			run := exec.Command("go", append([]string{"run", ".", header}, abi.cflags...)...)
			run.Dir = mod
			run.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GOPROXY=off", "CGO_ENABLED=0")
			// The native layout is the C compiler's default, the host's:
			// the check runs as a host program even when this test binary
			// is a 386 one (GOARCH=386 in the environment).
			goarch := hostArch(t)
			if len(abi.cflags) > 0 {
				goarch = "386"
			}
			run.Env = append(run.Env, "GOARCH="+goarch)
			out, err := run.CombinedOutput()
			if err != nil {
				t.Fatalf("go run: %v\n%s\ntypes.go:\n%s", err, out, src)
			}
			if string(out) != "shape: <nil>\nother: true\n" {
				t.Errorf("the program printed:\n%s\ntypes.go:\n%s", out, src)
			}
		})
	}
}

// hostArch is the go tool's GOHOSTARCH, the architecture of the programs
// the C compiler builds without flags.
func hostArch(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOHOSTARCH").Output()
	if err != nil {
		t.Fatalf("go env GOHOSTARCH: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// TestLayoutErrors: usage errors exit 2 with the synopsis; a missing
// header, a header that does not compile (with the compiler's output), a
// type not declared and a bitfield exit 1, each line starting
// "shmmap: layout".
func TestLayoutErrors(t *testing.T) {
	header, _ := shapeFiles(t)
	dir := filepath.Dir(header)
	broken := filepath.Join(dir, "broken.h")
	bits := filepath.Join(dir, "bits.h")
	os.WriteFile(broken, []byte("struct b { int a int c; };\n"), 0o644)
	os.WriteFile(bits, []byte("struct bits { unsigned a : 3; };\n"), 0o644)
	usage := [][]string{
		{"layout"},
		{"layout", header},
		{"layout", header, "struct shape", "extra"},
		{"layout", "--nosuch", header, "struct shape"},
		{"layout", "--go", "--json", header, "struct shape"},
		{"layout", "--cflags", "'-DX", header, "struct shape"},
	}
	for _, args := range usage {
		res := runShmmap(t, runOpts{}, args...)
		if res.Status != 2 || res.Stdout != "" || !strings.Contains(res.Stderr, "usage: shmmap layout") {
			t.Errorf("%q: %+v; want status 2 and the usage", args, res)
		}
	}
	failures := []struct {
		args []string
		want string
	}{
		{[]string{"layout", filepath.Join(dir, "nosuch.h"), "struct shape"}, "no such file"},
		{[]string{"layout", broken, "struct b"}, "broken.h:1"},
		{[]string{"layout", header, "struct nosuch"}, "not declared"},
		{[]string{"layout", header, "union nosuch"}, "not declared"},
		{[]string{"layout", bits, "struct bits"}, "bitfield"},
		{[]string{"layout", "--go", bits, "struct bits"}, "bitfield"},
	}
	for _, c := range failures {
		res := runShmmap(t, runOpts{}, c.args...)
		if res.Status != 1 || res.Stdout != "" || !strings.Contains(res.Stderr, c.want) || !strings.HasPrefix(res.Stderr, "shmmap: layout") {
			t.Errorf("%q: %+v; want status 1 and %q", c.args, res, c.want)
		}
		for _, line := range strings.Split(strings.TrimRight(res.Stderr, "\n"), "\n") {
			if !strings.HasPrefix(line, "shmmap: ") {
				t.Errorf("%q: stderr line %q", c.args, line)
			}
		}
	}
	if res := runShmmap(t, runOpts{}, "layout", "-h"); res.Status != 0 || !strings.Contains(res.Stdout, "--m32") || !strings.Contains(res.Stdout, "needs the go tool") {
		t.Errorf("layout -h: %+v", res)
	}
}

// TestSplitFlags: --cflags splits as a shell would.
func TestSplitFlags(t *testing.T) {
	for in, want := range map[string][]string{
		"":                       nil,
		"  -I dir  -DX=1 ":       {"-I", "dir", "-DX=1"},
		`-DA="x y" '-DB=it''s'`:  {"-DA=x y", "-DB=its"},
		`-I my\ dir -D"Q"`:       {"-I", "my dir", "-DQ"},
		`'' -m32`:                {"", "-m32"},
		"-DA='\"quoted\"'\t-m32": {`-DA="quoted"`, "-m32"},
	} {
		got, err := splitFlags(in)
		if err != nil || strings.Join(got, "|") != strings.Join(want, "|") || len(got) != len(want) {
			t.Errorf("splitFlags(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{`'open`, `"open`, `trailing\`} {
		if _, err := splitFlags(bad); err == nil {
			t.Errorf("splitFlags(%q) accepted", bad)
		}
	}
}

// TestLayoutGoSeveralTypes: layout --go with several types declares a
// nested type they share once, so one run fills one Go package.
func TestLayoutGoSeveralTypes(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go tool is not on PATH")
	}
	header := filepath.Join(shmtest.SharedDir(t), "nested.h")
	src := "#include <stdint.h>\nstruct tspec { int64_t sec; int32_t nsec; };\n" +
		"struct node { struct tspec at; uint32_t id; };\nstruct timer { uint16_t n; struct tspec every; };\n"
	if err := os.WriteFile(header, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out := mustShmmap(t, "layout", "--go", header, "struct node", "struct", "timer")
	for _, decl := range []string{"type Tspec struct", "type Node struct", "type Timer struct"} {
		if n := strings.Count(out, decl); n != 1 {
			t.Errorf("%q appears %d times in:\n%s", decl, n, out)
		}
	}
}
