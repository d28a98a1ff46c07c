package layout

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
)

// compilerCommand returns the C compiler command: `go env CC` split into
// fields (CC may carry flags, as in "gcc -std=gnu11"), or $CC, or cc when
// the go tool is not installed. The answer is remembered for each value
// of $CC, which go env CC reflects.
func compilerCommand() []string {
	cc := os.Getenv("CC")
	compilers.Lock()
	defer compilers.Unlock()
	if f, ok := compilers.byEnv[cc]; ok {
		return f
	}
	f := findCompiler(cc)
	if compilers.byEnv == nil {
		compilers.byEnv = map[string][]string{}
	}
	compilers.byEnv[cc] = f
	return f
}

// compilers caches compilerCommand's answers.
var compilers struct {
	sync.Mutex
	byEnv map[string][]string // $CC -> the command
}

// findCompiler does compilerCommand's work for $CC = cc.
func findCompiler(cc string) []string {
	if goTool, err := exec.LookPath("go"); err == nil {
		if out, err := exec.Command(goTool, "env", "CC").Output(); err == nil {
			if f := strings.Fields(string(out)); len(f) > 0 {
				return f
			}
		}
	}
	if f := strings.Fields(cc); len(f) > 0 {
		return f
	}
	return []string{"cc"}
}

// typeNameRE is what a C type name may look like: a typedef name, or
// struct, union or enum and a tag.
var typeNameRE = regexp.MustCompile(`^(?:(struct|union|enum)\s+)?([A-Za-z_][A-Za-z0-9_]*)$`)

// normalizeType checks cType and returns it with single spaces:
// "struct  x" becomes "struct x".
func normalizeType(cType string) (string, error) {
	m := typeNameRE.FindStringSubmatch(strings.TrimSpace(cType))
	if m == nil || m[2] == "struct" || m[2] == "union" || m[2] == "enum" {
		return "", fmt.Errorf("layout: %q is not a C type name (want a typedef name such as stats_t, or struct stats): %w", cType, fs.ErrInvalid)
	}
	if m[1] != "" {
		return m[1] + " " + m[2], nil
	}
	return m[2], nil
}

// includeLine returns the #include directive for header, by absolute path
// so that the probe may live anywhere. The header must exist.
func includeLine(header string) (string, error) {
	abs, err := filepath.Abs(header)
	if err != nil {
		return "", fmt.Errorf("layout: header %s: %w", header, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("layout: header: %w", err)
	}
	if st.IsDir() {
		return "", fmt.Errorf("layout: header %s is a directory: %w", header, fs.ErrInvalid)
	}
	if strings.ContainsAny(abs, "\"\\\n") {
		return "", fmt.Errorf("layout: header path %q holds a quote, backslash or newline, which #include cannot name: %w", header, fs.ErrInvalid)
	}
	return fmt.Sprintf("#include \"%s\"\n", abs), nil
}

// compiler runs the C compiler on generated sources in a temporary
// directory.
type compiler struct {
	header string   // as given, for messages
	cflags []string // the user's flags
	dir    string
}

// newCompiler makes the temporary directory; the caller calls close.
func newCompiler(header string, cflags []string) (*compiler, error) {
	dir, err := os.MkdirTemp("", "layout-")
	if err != nil {
		return nil, fmt.Errorf("layout: %w", err)
	}
	return &compiler{header: header, cflags: cflags, dir: dir}, nil
}

// close removes the temporary directory.
func (c *compiler) close() { os.RemoveAll(c.dir) }

// compile compiles src (C source) to an object file with debugging
// information and returns it opened, and the compiler's output. The
// object is never linked nor run, so a -m32 object can be read on a
// kernel that cannot execute 32-bit programs. The error is a
// *CompileError.
func (c *compiler) compile(name, src string) (*elf.File, error) {
	cfile := filepath.Join(c.dir, name+".c")
	obj := filepath.Join(c.dir, name+".o")
	if err := os.WriteFile(cfile, []byte(src), 0o600); err != nil {
		return nil, fmt.Errorf("layout: %w", err)
	}
	cc := compilerCommand()
	args := append([]string{}, cc[1:]...)
	args = append(args, c.cflags...)
	// After the user's flags, so that they win: debugging information
	// (the DWARF read back), an object file, no LTO (whose objects hold
	// no data), C.
	args = append(args, "-g", "-fno-lto", "-c", "-o", obj, "-x", "c", cfile)
	// In the caller's directory, so that relative paths in cflags (-I
	// include) mean what they mean to the caller.
	cmd := exec.Command(cc[0], args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, &CompileError{Header: c.header, Command: append([]string{cc[0]}, args...), Output: out.String(), Err: err}
	}
	f, err := elf.Open(obj)
	if err != nil {
		return nil, fmt.Errorf("layout: reading the object the C compiler wrote: %w (only ELF targets are supported)", err)
	}
	return f, nil
}

// readConsts returns the n unsigned long long values of the array name
// defined in the object f, in the target's byte order.
func readConsts(f *elf.File, name string, n int) ([]uint64, error) {
	syms, err := f.Symbols()
	if err != nil {
		return nil, fmt.Errorf("layout: the object's symbols: %w", err)
	}
	for _, s := range syms {
		if s.Name != name {
			continue
		}
		if int(s.Section) <= 0 || int(s.Section) >= len(f.Sections) {
			break
		}
		sec := f.Sections[s.Section]
		if sec.Type == elf.SHT_NOBITS {
			break
		}
		data, err := sec.Data()
		if err != nil {
			return nil, fmt.Errorf("layout: the object's section %s: %w", sec.Name, err)
		}
		if s.Value+uint64(8*n) > uint64(len(data)) {
			break
		}
		vals := make([]uint64, n)
		for i := range vals {
			vals[i] = f.ByteOrder.Uint64(data[s.Value+uint64(8*i):])
		}
		return vals, nil
	}
	return nil, errors.New("layout: the C compiler did not emit the constants the probe defines (" + name + ")")
}
