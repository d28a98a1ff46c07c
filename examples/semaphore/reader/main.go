// Command reader is the article's reader with a System V semaphore, in Go:
// the same program as ../c/reader.c, and either may talk to either writer.
//
// It opens (creating if need be) the segment at key 0x1234 and the set of
// two semaphores at the same key (see the writer), attaches the segment
// read-only and, for each message, waits on FULL, prints the NUL-terminated
// text on a line of its own and posts ACK. An empty message ends the
// stream: the reader then removes the segment and the semaphores, leaving
// nothing behind. A wait gives up after 30 seconds.
package main

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"time"

	"github.com/shmmap/shmmap"
)

const (
	key  = 0x1234
	size = 1024
	full = 0 // semaphore: a message is in the segment
	ack  = 1 // semaphore: the reader has taken it
)

func main() {
	log.SetFlags(0)
	seg, _, err := shmmap.OpenOrCreateSegment(key, size, 0o600)
	if err != nil {
		log.Fatal(err)
	}
	sems, _, err := shmmap.OpenOrCreateSemaphores(key, 2, 0o600)
	if err != nil {
		log.Fatal(err)
	}
	shm, err := seg.Attach(shmmap.AttachReadOnly)
	if err != nil {
		log.Fatal(err)
	}
	buf := make([]byte, shm.Len())
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := sems.WaitContext(ctx, full)
		cancel()
		if err != nil {
			log.Fatal(err)
		}
		n, err := shm.ReadAt(buf, 0)
		if err != nil {
			log.Fatal(err)
		}
		msg, _, _ := bytes.Cut(buf[:n], []byte{0})
		if len(msg) == 0 {
			break
		}
		fmt.Printf("%s\n", msg)
		if err := sems.Post(ack); err != nil {
			log.Fatal(err)
		}
	}
	shm.Detach()
	if err := seg.Remove(); err != nil {
		log.Fatal(err)
	}
	if err := sems.Remove(); err != nil {
		log.Fatal(err)
	}
}
