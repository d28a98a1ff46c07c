// Command writer is the article's writer with a System V semaphore instead
// of the 30-second sleep, in Go: the same program as ../c/writer.c, and either
// may talk to either reader.
//
// It opens (creating if need be) the segment at key 0x1234 (1024 bytes,
// 0600) and a set of two semaphores at the same key: FULL (a message is in
// the segment) and ACK (the reader has taken it). For each argument — by
// default the article's "shared memory here!" — it writes the text into the
// segment as a NUL-terminated string, posts FULL and waits on ACK; an empty
// message ends the stream. Nothing initialises the semaphores: Linux creates
// them at 0, the state the protocol starts from, so either program may start
// first. A wait gives up after 30 seconds.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"slices"
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
	msgs := os.Args[1:]
	if len(msgs) == 0 {
		msgs = []string{"shared memory here!"}
	}
	if slices.Contains(msgs, "") {
		fmt.Fprintln(os.Stderr, "writer: an empty message would end the stream")
		os.Exit(2)
	}
	seg, _, err := shmmap.OpenOrCreateSegment(key, size, 0o600)
	if err != nil {
		log.Fatal(err)
	}
	sems, _, err := shmmap.OpenOrCreateSemaphores(key, 2, 0o600)
	if err != nil {
		log.Fatal(err)
	}
	shm, err := seg.Attach(shmmap.AttachReadWrite)
	if err != nil {
		log.Fatal(err)
	}
	defer shm.Detach()

	for _, m := range append(msgs, "") { // the empty message ends the stream
		// NUL-terminated and cut to fit, as the C writer's snprintf does.
		b := append([]byte(m)[:min(len(m), size-1):min(len(m), size-1)], 0)
		if _, err := shm.WriteAt(b, 0); err != nil {
			log.Fatal(err)
		}
		if err := sems.Post(full); err != nil {
			log.Fatal(err)
		}
		if m == "" {
			break
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := sems.WaitContext(ctx, ack)
		cancel()
		if err != nil {
			log.Fatal(err)
		}
	}
}
