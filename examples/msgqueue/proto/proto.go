// Package proto is the Go side of the message-queue protocol, c/msgqueue.h:
// its constants and its structs, laid out as the C compiler lays them out
// for the architecture the program is built for, and what the Go server
// and client share (C strings in char arrays, perror's messages).
//
// C's long is Go's int on every architecture Go runs on under Linux (8 bytes
// on the 64-bit ones, 4 on 386, arm, mips), with the same alignment, so the
// structs below have C's sizes and offsets everywhere: the request's body
// is 80 bytes on x86-64 and 72 on i386, as in C. layout.Check holds them to
// the header on both x86 ABIs in proto_test.go.
package proto

import (
	"errors"
	"fmt"
	"io"
	"syscall"
	"unsafe"

	"github.com/shmmap/shmmap/purego"
)

// Proj is MSGQ_PROJ, the project id both sides give ftok with the path.
const Proj = 'Q'

// MtypeRequest is MSGQ_REQUEST, the mtype of every request.
const MtypeRequest = 1

// TextLen is MSGQ_TEXT, the length of the text fields, NUL included.
const TextLen = 64

// The operations of a request (enum op).
const (
	OpUpper    = 1 // the text in upper case (ASCII letters only)
	OpAdd      = 2 // the sum of the whitespace-separated integers in the text
	OpShutdown = 3 // the server removes the queue and exits; no answer
)

// The statuses of a reply (enum status).
const (
	StatusOK      = 0 // the text is the answer
	StatusBad     = 1 // the request was wrong; the text says how
	StatusRefused = 2 // the request was not the server's size; the text says so
)

// Request is struct request, a whole message: the mtype, then the body,
// which is what msgsnd and msgrcv are given the size of.
type Request struct {
	Mtype int // C long: MtypeRequest
	Body  RequestBody
}

// RequestBody is the body of struct request.
type RequestBody struct {
	Pid  int   // C long: the client's pid, the mtype of the answer
	Op   int32 // one of the Op constants
	Text [TextLen]byte
}

// Reply is struct reply, a whole message: the mtype (the client's pid),
// then the body.
type Reply struct {
	Mtype int // C long: the client's pid
	Body  ReplyBody
}

// ReplyBody is the body of struct reply.
type ReplyBody struct {
	Status int32 // one of the Status constants
	Text   [TextLen]byte
}

// RequestSize is the size of a request's body, sizeof req.body in C, which
// is what a request message holds: 80 bytes on 64-bit architectures, 72 on
// 32-bit ones (not sizeof(struct request) - sizeof(long), which would count
// the padding after the body too).
const RequestSize = int(unsafe.Sizeof(RequestBody{}))

// ReplySize is the size of a reply's body, sizeof rep.body in C: 68 bytes
// everywhere.
const ReplySize = int(unsafe.Sizeof(ReplyBody{}))

// Bytes returns the body's memory, RequestSize bytes, as msgsnd sends it
// and msgrcv fills it. The bytes are the struct's own: writing them writes
// it.
func (b *RequestBody) Bytes() []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(b)), unsafe.Sizeof(*b))
}

// Bytes returns the body's memory, ReplySize bytes, as msgsnd sends it and
// msgrcv fills it. The bytes are the struct's own: writing them writes it.
func (b *ReplyBody) Bytes() []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(b)), unsafe.Sizeof(*b))
}

// CString returns the bytes of a C char array up to its first NUL, as
// printf("%s") prints them (all of a, if it has none).
func CString(a []byte) string {
	for i, c := range a {
		if c == 0 {
			return string(a[:i])
		}
	}
	return string(a)
}

// SetCString stores s in the char array a as C's memset followed by
// strncpy(a, s, len(a)-1), or snprintf(a, len(a), "%s", s), does: at most
// len(a)-1 bytes of s (up to a NUL in it), then NULs to the end.
func SetCString(a []byte, s string) {
	clear(a)
	for i := 0; i < len(s) && i < len(a)-1 && s[i] != 0; i++ {
		a[i] = s[i]
	}
}

// Perror writes what glibc's perror(s) writes for err's errno, "s: message"
// with glibc's message; an error without an errno is written as "s: err".
func Perror(w io.Writer, s string, err error) {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		fmt.Fprintf(w, "%s: %s\n", s, purego.Strerror(errno))
		return
	}
	fmt.Fprintf(w, "%s: %v\n", s, err)
}
