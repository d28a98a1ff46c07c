// Command writer is the article's writer on a ring, in Go: the same program
// as cring/examples/writer.c, so either may talk to the reader in either
// language. It opens the System V segment at key 0x1234 (creating it and
// formatting the ring if it comes first), takes the producer role, sends
// each argument as one message (by default the article's
// "shared memory here!") and closes its side. No sleep: the messages wait
// in the segment for the reader.
package main

import (
	"context"
	"errors"
	"io/fs"
	"log"
	"os"
	"time"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/ring"
)

const (
	key  = 0x1234
	size = 4096 // a 512-byte header and a 2048-byte ring
)

func main() {
	log.SetFlags(0)
	r, shm, _, err := openRing()
	if err != nil {
		log.Fatal(err)
	}
	defer shm.Detach()
	p, err := r.Producer()
	if err != nil {
		log.Fatal(err)
	}
	msgs := os.Args[1:]
	if len(msgs) == 0 {
		msgs = []string{"shared memory here!"}
	}
	for _, m := range msgs {
		if err := p.Write(1, []byte(m)); err != nil {
			log.Fatal(err)
		}
	}
	p.Close() // the reader sees the end of the stream
}

// openRing: whoever creates the segment formats the ring; the other waits
// for it (a futex on the magic word, not a sleep loop).
func openRing() (*ring.Ring, *shmmap.Attachment, *shmmap.Segment, error) {
	seg, err := shmmap.CreateSegment(key, size, 0o600)
	created := err == nil
	if errors.Is(err, fs.ErrExist) {
		seg, err = shmmap.OpenSegment(key)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	shm, err := seg.Attach(shmmap.AttachReadWrite)
	if err != nil {
		return nil, nil, nil, err
	}
	var r *ring.Ring
	if created {
		r, err = ring.Init(shm.Bytes())
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		r, err = ring.AttachContext(ctx, shm.Bytes())
		cancel()
	}
	if err != nil {
		shm.Detach()
		return nil, nil, nil, err
	}
	return r, shm, seg, nil
}
