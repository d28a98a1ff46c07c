package main

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"github.com/shmmap/shmmap/layout"
)

// layoutCmd prints a C struct's layout, or Go structs for C structs.
var layoutCmd = &command{
	name:    "layout",
	args:    "[--json] [--m32] [--cflags FLAGS] [--go [--package NAME]] HEADER TYPE (--go: TYPE...)",
	summary: "a C struct's layout (size, alignment, each member's offset and size), or Go structs for C structs",
	help: `Prints the layout of the C struct TYPE declared in the header file HEADER,
as the C compiler Go uses (go env CC) lays it out: its size and alignment,
then one row per member with its offset, size and C type. Members of
nested structs have dotted paths (hdr.count), members of an array of
structs those of its first element (recs[0].id), arrays their dimensions
in the type (char[32]; a flexible array member char[]); (padding) rows
show the holes the compiler left. TYPE is "struct NAME" (one argument,
or two) or a typedef name. Nothing is linked or run: --m32 gives the i386
layout on any x86-64 machine with gcc-multilib.

Refused, naming the member, is what no Go struct can match: bitfields,
anonymous unions, __int128, long double (and _Float128, _Float16),
a type or member aligned to more than 8 bytes, a packed member
(__attribute__((packed)), #pragma pack), a function type.

--cflags passes more flags to the compiler ("-I dir -DX=1"; quote an
argument holding spaces with ' or ").

With --json, prints {"type", "header", "cflags", "size", "align",
"pointer_size", "fields": [{"name", "offset", "size", "type"}, ...]}: every
member depth first, name being its path; no padding entries.

With --go, prints Go declarations for TYPE and the struct types it nests,
made by cgo (go tool cgo -godefs, run with GOARCH=386 for --m32), with C
pointers as uintptr; the Go types pass layout.Check against the header
(see 'go doc github.com/shmmap/shmmap/layout'). --go needs the go tool on
PATH. It takes several TYPEs, and declares each, and every struct type
they nest, once. The outputs of two --go runs cannot share a Go package:
each declares the struct types its TYPE nests, so a struct nested in both
would be declared twice. Generate the types of one package in one run:

    shmmap layout --go --package board board.h 'struct board' 'struct record'`,
	run: runLayout,
}

// layoutJSON is what layout --json prints.
type layoutJSON struct {
	Type        string            `json:"type"`
	Header      string            `json:"header"`
	CFlags      []string          `json:"cflags"`
	Size        int64             `json:"size"`
	Align       int64             `json:"align"`
	PointerSize int64             `json:"pointer_size"`
	Fields      []layoutFieldJSON `json:"fields"`
}

// layoutFieldJSON is one member in layout --json.
type layoutFieldJSON struct {
	Name   string `json:"name"`
	Offset int64  `json:"offset"`
	Size   int64  `json:"size"`
	Type   string `json:"type"`
}

// runLayout runs shmmap layout.
func runLayout(e *env, c *command, args []string) error {
	fs := newFlagSet(c.name)
	asJSON := fs.Bool("json", false, "print JSON")
	m32 := fs.Bool("m32", false, "the i386 layout: compile with -m32 (and run cgo with GOARCH=386 for --go)")
	cflagsText := fs.String("cflags", "", "more C compiler `FLAGS`, as one argument: \"-I dir -DX=1\"")
	asGo := fs.Bool("go", false, "print Go declarations made by go tool cgo -godefs (needs the go tool)")
	pkg := fs.String("package", "main", "the package `NAME` of the --go output")
	pos, err := e.parse(c, fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 2 {
		return wantArgs(c, pos, "HEADER", "TYPE")
	}
	header, types := pos[0], layoutTypes(pos[1:])
	if len(types) > 1 && !*asGo {
		return usagef(c, "too many arguments: %s (only --go takes several TYPEs)", strings.Join(types[1:], ", "))
	}
	if *asGo && *asJSON {
		return usagef(c, "--go and --json do not go together")
	}
	cflags, err := splitFlags(*cflagsText)
	if err != nil {
		return usagef(c, "--cflags: %v", err)
	}
	if *m32 {
		cflags = append(cflags, "-m32")
	}
	if *asGo {
		if _, err := exec.LookPath("go"); err != nil {
			return fmt.Errorf("layout --go runs go tool cgo -godefs, and the go tool is not on PATH: install Go, or add its bin directory to PATH")
		}
		src, err := layout.GoDefsTypes(*pkg, header, types, cflags...)
		if err != nil {
			return trimLayoutErr(err)
		}
		_, err = e.stdout.Write(src)
		return err
	}
	l, err := layout.Measure(header, types[0], cflags...)
	if err != nil {
		return trimLayoutErr(err)
	}
	if *asJSON {
		out := layoutJSON{Type: l.Type, Header: header, CFlags: append([]string{}, cflags...), Size: l.Size, Align: l.Align, PointerSize: l.PtrSize, Fields: []layoutFieldJSON{}}
		for _, f := range l.All() {
			out.Fields = append(out.Fields, layoutFieldJSON{Name: f.Path, Offset: f.Offset, Size: f.Size, Type: f.Type})
		}
		return writeJSON(e.stdout, out)
	}
	_, err = fmt.Fprint(e.stdout, l)
	return err
}

// layoutTypes returns the C types named by args: each argument is one,
// except that struct, union or enum joins the argument after it (struct
// stats may come as two arguments).
func layoutTypes(args []string) []string {
	var types []string
	for i := 0; i < len(args); i++ {
		t := args[i]
		if (t == "struct" || t == "union" || t == "enum") && i+1 < len(args) {
			i++
			t += " " + args[i]
		}
		types = append(types, t)
	}
	return types
}

// trimLayoutErr returns err's message for printing after "shmmap: ",
// beginning with the command's name as the layout package's errors do
// ("shmmap: layout: header x.h does not compile ...").
func trimLayoutErr(err error) error {
	msg := err.Error()
	if !strings.HasPrefix(msg, "layout: ") {
		msg = "layout: " + msg
	}
	return errors.New(msg)
}

// splitFlags splits s into arguments at blanks, as a shell would without
// expansions: '...' and "..." quote blanks, and a backslash the next
// character outside single quotes.
func splitFlags(s string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inArg := false
	var quote rune
	escaped := false
	for _, r := range s {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case quote == '\'':
			if r == '\'' {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\\':
			escaped, inArg = true, true
		case quote == '"':
			if r == '"' {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inArg = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteRune(r)
			inArg = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote in %q", quote, s)
	}
	if escaped {
		return nil, fmt.Errorf("trailing backslash in %q", s)
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args, nil
}
