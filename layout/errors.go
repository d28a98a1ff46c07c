package layout

import (
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"strings"
)

var (
	// ErrMismatch is matched (errors.Is) by every *Mismatch: the Go and C
	// types were both measured and their layouts differ.
	ErrMismatch = errors.New("layout: Go and C layouts differ")
	// ErrUnsupported is wrapped by the errors of what cannot be checked: a
	// bitfield, an anonymous union, a union, function or other non-struct
	// as the type itself, a complex number, an integer wider than 8 bytes
	// (__int128), long double and the other floating-point types Go lacks,
	// a type or member aligned to more than 8 bytes, a packed member (C
	// side); a pointer, unsafe.Pointer, string, slice, map, interface,
	// channel, function or complex number (Go side). The message names the
	// field and the reason.
	ErrUnsupported = errors.New("cannot be checked")
	// ErrNotFound is wrapped when the header compiles but does not declare
	// the C type (or declares it incomplete, as struct x;). The message
	// carries the compiler's output.
	ErrNotFound = errors.New("not declared in the header")
	// ErrABI is wrapped when the C compiler targets another word size than
	// the running Go binary (sizeof(void *) differs from
	// unsafe.Sizeof(uintptr(0))): compare a 32-bit Go binary with C compiled
	// with -m32, and a 64-bit one without.
	ErrABI = errors.New("the C and Go ABIs differ")
)

// CompileError is returned when the C compiler fails on the header: the
// header does not compile with the flags given, or the compiler cannot be
// run (then errors.Is(err, exec.ErrNotFound) where it is not installed).
// Output is everything the compiler printed.
type CompileError struct {
	Header  string   // the header, as given
	Command []string // the compiler command line
	Output  string   // what the compiler printed
	Err     error    // from os/exec: the exit status, or why it could not start

	what string // what failed, if not the header
}

// Error says which header failed and includes the compiler's output, or
// says that the compiler could not be run at all.
func (e *CompileError) Error() string {
	if e.notRun() {
		return fmt.Sprintf("layout: the C compiler could not be run (it is `go env CC`, or $CC): %v", e.Err)
	}
	what := e.what
	if what == "" {
		what = "header " + e.Header + " does not compile"
	}
	msg := fmt.Sprintf("layout: %s (%s: %v)", what, strings.Join(e.Command, " "), e.Err)
	if out := strings.TrimRight(e.Output, "\n"); out != "" {
		msg += ":\n" + out
	}
	return msg
}

// notRun reports whether the compiler did not start: it is not installed
// (exec.ErrNotFound), or not executable; as opposed to having failed.
func (e *CompileError) notRun() bool {
	var lookErr *exec.Error    // from LookPath: not found
	var startErr *fs.PathError // from fork/exec: permission denied, ...
	return errors.Is(e.Err, exec.ErrNotFound) || errors.As(e.Err, &lookErr) || errors.As(e.Err, &startErr)
}

// Unwrap returns the error of os/exec.
func (e *CompileError) Unwrap() error { return e.Err }

// unsupported returns an error wrapping ErrUnsupported: "layout: WHERE:
// WHAT: cannot be checked".
func unsupported(where, format string, args ...any) error {
	return fmt.Errorf("layout: %s: %s: %w", where, fmt.Sprintf(format, args...), ErrUnsupported)
}
