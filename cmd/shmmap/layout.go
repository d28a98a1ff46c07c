package main

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"github.com/shmmap/shmmap/layout"
)

// layoutCmd prints a C struct's layout, or a Go struct for it.
var layoutCmd = &command{
	name:    "layout",
	args:    "[--json] [--m32] [--cflags FLAGS] [--go [--package NAME]] HEADER TYPE",
	summary: "a C struct's layout (size, alignment, each member's offset and size), or a Go struct for it",
	help: `Prints the layout of the C struct TYPE declared in the header file HEADER,
as the C compiler Go uses (go env CC) lays it out: its size and alignment,
then one row per member with its offset, size and C type. Members of
nested structs have dotted paths (hdr.count), members of an array of
structs those of its first element (recs[0].id), arrays their dimensions
in the type (char[32]); (padding) rows show the holes the compiler left.
TYPE is "struct NAME" (one argument, or two) or a typedef name. Nothing
is linked or run: --m32 gives the i386 layout on any x86-64 machine with
gcc-multilib. Bitfields and anonymous unions are refused.

--cflags passes more flags to the compiler ("-I dir -DX=1"; quote an
argument holding spaces with ' or ").

With --json, prints {"type", "header", "cflags", "size", "align",
"pointer_size", "fields": [{"name", "offset", "size", "type"}, ...]}: every
member depth first, name being its path; no padding entries.

With --go, prints Go declarations for TYPE and the struct types it nests,
made by cgo (go tool cgo -godefs, run with GOARCH=386 for --m32), with C
pointers as uintptr; the Go type passes layout.Check against the header
(see 'go doc github.com/shmmap/shmmap/layout'). --go needs the go tool on
PATH.`,
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
	// struct stats may come as two arguments.
	if len(pos) == 3 && (pos[1] == "struct" || pos[1] == "union" || pos[1] == "enum") {
		pos = []string{pos[0], pos[1] + " " + pos[2]}
	}
	if err := wantArgs(c, pos, "HEADER", "TYPE"); err != nil {
		return err
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
	header, typ := pos[0], pos[1]
	if *asGo {
		if _, err := exec.LookPath("go"); err != nil {
			return fmt.Errorf("layout --go runs go tool cgo -godefs, and the go tool is not on PATH: install Go, or add its bin directory to PATH")
		}
		src, err := layout.GoDefs(*pkg, header, typ, cflags...)
		if err != nil {
			return trimLayoutErr(err)
		}
		_, err = e.stdout.Write(src)
		return err
	}
	l, err := layout.Measure(header, typ, cflags...)
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
