// Package cport holds what the Go ports of the article's C programs share:
// choosing the implementation from the -impl flag, and reproducing the
// observable behaviour of the C library functions the programs use (perror,
// strncpy into a char buffer, printf of a C string).
package cport

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/shmmap/shmmap/impls"
	"github.com/shmmap/shmmap/sysapi"
)

// Exit statuses of the C programs. exit(-1) is reported by the kernel as
// 255, the low 8 bits of -1.
const (
	ExitOK      = 0
	ExitFailure = 1   // exit(1)
	ExitMinus1  = 255 // exit(-1)
	ExitUsage   = 2   // bad flags, or an implementation not in this binary
)

// ImplFlag defines the -impl flag on fs.
func ImplFlag(fs *flag.FlagSet) *string {
	return fs.String("impl", impls.DefaultName, "implementation of the C calls: cshim (libc through cgo) or purego (system calls)")
}

// MustImpl returns the implementation called name. If the binary does not
// have it, it says so on stderr and exits with status 2.
func MustImpl(prog, name string) sysapi.Impl {
	impl, err := impls.Lookup(name)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: -impl %v\n", prog, err)
		os.Exit(ExitUsage)
	}
	return impl
}

// Perror writes what glibc's perror(s) writes when errno is err:
// "s: message\n", with the message from the implementation's strerror.
func Perror(w io.Writer, impl sysapi.Impl, s string, err error) {
	msg := err.Error()
	if e, ok := err.(syscall.Errno); ok {
		msg = impl.Strerror(e)
	}
	if s == "" {
		fmt.Fprintf(w, "%s\n", msg)
		return
	}
	fmt.Fprintf(w, "%s: %s\n", s, msg)
}

// Strncpy returns what C's strncpy(dst, src, n) followed by printf("%s", dst)
// shows when dst is a zeroed buffer of bufSize bytes: the bytes of src up to
// its first NUL, at most n of them, and never more than bufSize-1 so the
// buffer keeps its terminating NUL. (In C, n >= bufSize overflows the buffer;
// the ports take this bounded reading instead.) The result is a copy: src
// may be read-only shared memory that must never be appended to.
func Strncpy(src []byte, n, bufSize int) []byte {
	n = min(n, len(src), bufSize-1)
	if n < 0 {
		n = 0
	}
	s := src[:n]
	if i := bytes.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	return bytes.Clone(s)
}
