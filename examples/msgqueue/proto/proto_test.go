package proto_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"

	"github.com/shmmap/shmmap/examples/msgqueue/proto"
	"github.com/shmmap/shmmap/layout"
	"github.com/shmmap/shmmap/layout/layouttest"
)

// TestLayout holds the Go structs to c/msgqueue.h as the C compiler lays
// it out for this binary's ABI, and again as a 386 binary against -m32.
func TestLayout(t *testing.T) {
	layouttest.Also386(t)
	cflags := layouttest.CFlags(t)
	for _, c := range []struct {
		v     any
		cType string
	}{
		{proto.Request{}, "struct request"},
		{proto.Reply{}, "struct reply"},
	} {
		if err := layout.Check(c.v, "../c/msgqueue.h", c.cType, cflags...); err != nil {
			t.Errorf("%s: %v", c.cType, err)
		}
	}
}

// TestBytes: a body's bytes are its memory, as msgsnd takes them, of the
// body's size, and writing them sets the fields.
func TestBytes(t *testing.T) {
	var req proto.RequestBody
	if got := len(req.Bytes()); got != proto.RequestSize {
		t.Errorf("len(RequestBody.Bytes()) = %d, want RequestSize %d", got, proto.RequestSize)
	}
	var rep proto.ReplyBody
	if got := len(rep.Bytes()); got != proto.ReplySize {
		t.Errorf("len(ReplyBody.Bytes()) = %d, want ReplySize %d", got, proto.ReplySize)
	}
	copy(rep.Bytes()[4:], "hi")
	if got := proto.CString(rep.Text[:]); got != "hi" {
		t.Errorf("the text after writing the bytes: %q, want %q", got, "hi")
	}
}

// TestCStrings: SetCString cuts at len-1 bytes and fills with NULs, as
// memset and strncpy do; CString stops at the first NUL.
func TestCStrings(t *testing.T) {
	a := bytes.Repeat([]byte{'x'}, 8)
	proto.SetCString(a, "abc")
	if want := []byte("abc\x00\x00\x00\x00\x00"); !bytes.Equal(a, want) {
		t.Errorf("SetCString(%q) = %q, want %q", "abc", a, want)
	}
	proto.SetCString(a, "0123456789")
	if want := []byte("0123456\x00"); !bytes.Equal(a, want) {
		t.Errorf("SetCString(%q) = %q, want %q", "0123456789", a, want)
	}
	if got := proto.CString([]byte("ab\x00cd")); got != "ab" {
		t.Errorf("CString = %q, want %q", got, "ab")
	}
	if got := proto.CString([]byte("abcd")); got != "abcd" {
		t.Errorf("CString without a NUL = %q, want %q", got, "abcd")
	}
}

// TestPerror: glibc's text for an errno anywhere in the chain, the error
// itself otherwise.
func TestPerror(t *testing.T) {
	var b bytes.Buffer
	proto.Perror(&b, "msgget", fmt.Errorf("wrapped: %w", &os.PathError{Op: "x", Path: "y", Err: syscall.ENOENT}))
	proto.Perror(&b, "msgrcv", syscall.EIDRM)
	proto.Perror(&b, "parse", errors.New("no errno"))
	want := "msgget: No such file or directory\nmsgrcv: Identifier removed\nparse: no errno\n"
	if b.String() != want {
		t.Errorf("Perror wrote %q, want %q", b.String(), want)
	}
}

// Example shows a request's body as the client builds it and the bytes it
// sends: the pid (a C long), the op, then the text in a char[64].
func Example() {
	var req proto.RequestBody
	req.Pid = 4242
	req.Op = proto.OpUpper
	proto.SetCString(req.Text[:], "hello")
	b := req.Bytes()
	fmt.Println(len(b) == proto.RequestSize, proto.CString(req.Text[:]), proto.ReplySize)
	// Output: true hello 68
}
