// Command goreader is the Go counterpart of reader.c: it attaches the
// segment at key 0x1234 read-only and prints the string at its start.
package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/shmmap/shmmap"
)

func main() {
	seg, err := shmmap.OpenSegment(0x1234)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shm, err := seg.Attach(shmmap.AttachReadOnly)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer shm.Detach()
	b := shm.Bytes()
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	fmt.Printf("%s\n", b)
}
