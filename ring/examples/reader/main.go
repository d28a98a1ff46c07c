// Command reader is the article's reader on a ring, in Go: the same program
// as cring/examples/reader.c. It opens (or creates) the segment at key
// 0x1234 as the writer does, takes the consumer role, prints each message
// on its own line as it arrives — asleep on a futex while there is none —
// until the writer has closed its side and everything has been read, then
// removes the segment. Either program may start first; neither sleeps.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"time"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/ring"
)

const (
	key  = 0x1234
	size = 4096
)

func main() {
	log.SetFlags(0)
	r, shm, seg, err := openRing()
	if err != nil {
		log.Fatal(err)
	}
	c, err := r.Consumer()
	if err != nil {
		log.Fatal(err)
	}
	buf := make([]byte, r.MaxMessage())
	for {
		_, n, err := c.Read(buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s\n", buf[:n])
	}
	c.Close()
	shm.Detach()
	seg.Remove() // the reader is the last user
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
