// Package board is the Go side of the status board's C header, c/board.h:
// the struct types, generated from the header by `shmmap layout --go` (one
// file per ABI, since `long` and the alignment of `double` differ between
// x86-64 and i386), and what the two Go programs share.
//
// The generated types are checked against the header for both ABIs by
// layout.Check in ../statusboard_test.go; regenerate them with go generate
// after a change to the header.
package board

// The 64-bit file serves every 64-bit architecture the project builds for:
// they all lay this struct out as x86-64 does (8-byte long, naturally
// aligned double); only amd64 is checked by a test. The 32-bit file is
// i386's (the _386 suffix restricts it).
//go:generate sh -c "{ echo '//go:build amd64 || arm64 || riscv64 || ppc64le || s390x'; echo; go run ../../../cmd/shmmap layout --go --package board ../c/board.h 'struct board'; } > ztypes_lp64.go"
//go:generate sh -c "go run ../../../cmd/shmmap layout --go --m32 --package board ../c/board.h 'struct board' > ztypes_386.go"

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"syscall"

	"github.com/shmmap/shmmap/purego"
)

// Proj is BOARD_PROJ, the project id both sides give ftok with the path.
const Proj = 'B'

// Records is BOARD_RECORDS, the length of Board.Recs.
const Records = 8

// CString returns the bytes of a C char array up to its first NUL, as
// printf("%s") would print them.
func CString[T ~int8 | ~uint8](a []T) []byte {
	b := make([]byte, 0, len(a))
	for _, c := range a {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return b
}

// SetCString stores s in the char array a as C's memset followed by
// strncpy(a, s, len(a)-1) would: at most len(a)-1 bytes, then NULs.
func SetCString[T ~int8 | ~uint8](a []T, s string) {
	clear(a)
	if i := bytes.IndexByte([]byte(s), 0); i >= 0 {
		s = s[:i]
	}
	for i := 0; i < len(s) && i < len(a)-1; i++ {
		a[i] = T(s[i])
	}
}

// Perror writes what glibc's perror(s) writes for err's errno: "s: message"
// with glibc's message for it.
func Perror(w io.Writer, s string, err error) {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		fmt.Fprintf(w, "%s: %s\n", s, purego.Strerror(errno))
		return
	}
	fmt.Fprintf(w, "%s: %v\n", s, err)
}

// Atoi is C's atoi: optional leading white space and sign, then as many
// decimal digits as there are; 0 when there are none.
func Atoi(s string) int {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] >= '\t' && s[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	n := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int(s[i]-'0')
	}
	if neg {
		return -n
	}
	return n
}
