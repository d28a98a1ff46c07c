package ring_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"time"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/ring"
)

// The article's writer and reader, on a ring in a System V segment. Here
// both halves run in one process on a private segment; as two programs
// they would share a key (see ring/examples/writer and reader, and
// cring/examples for the same pair in C), and the reader would print each
// message as it arrives, asleep on a futex in between — no sleep(30).
func Example() {
	seg, err := shmmap.CreateSegment(shmmap.IPCPrivate, int64(ring.Size(2048)), 0o600)
	if err != nil {
		log.Fatal(err)
	}
	shm, err := seg.Attach(shmmap.AttachReadWrite)
	if err != nil {
		log.Fatal(err)
	}
	seg.Remove() // gone once detached, whatever happens
	defer shm.Detach()

	// The writer formats the ring, sends, and closes its side.
	r, err := ring.Init(shm.Bytes())
	if err != nil {
		log.Fatal(err)
	}
	p, err := r.Producer()
	if err != nil {
		log.Fatal(err)
	}
	p.Write(1, []byte("shared memory here!"))
	p.Write(1, []byte("and a second message"))
	p.Close()

	// The reader attaches (validating the header) and reads to the end.
	r2, err := ring.Attach(shm.Bytes())
	if err != nil {
		log.Fatal(err)
	}
	c, err := r2.Consumer()
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, r2.MaxMessage())
	for {
		typ, n, err := c.Read(buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("type %d: %s\n", typ, buf[:n])
	}
	// Output:
	// type 1: shared memory here!
	// type 1: and a second message
}

// Init formats memory — here a memfd that a child process could inherit —
// as a ring; the capacity is the largest power of two that fits after the
// 512-byte header.
func ExampleInit() {
	f, err := shmmap.Memfd("ring", int64(ring.Size(64<<10)))
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	m, err := shmmap.Map(f, 0, 0, shmmap.MapShared)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	r, err := ring.Init(m.Bytes())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Capacity(), r.MaxMessage())
	// Output: 65536 65528
}

// Attach refuses memory that does not hold a ring, with an error that says
// why, and never crashes on it.
func ExampleAttach() {
	mem := make([]byte, 4096)
	_, err := ring.Attach(mem)
	fmt.Println(err)
	copy(mem, "not a ring")
	_, err = ring.Attach(mem) // "ring: corrupt: bad magic 0x20746f6e, want 0x474e5253: ..."
	fmt.Println(errors.Is(err, ring.ErrCorrupt))
	// Output:
	// ring: not initialised
	// true
}

// AttachContext lets either side start first: it sleeps until the other
// side's Init.
func ExampleAttachContext() {
	mem := make([]byte, ring.Size(1024))
	done := make(chan struct{})
	go func() {
		defer close(done)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r, err := ring.AttachContext(ctx, mem) // waits for Init below
		if err != nil {
			log.Fatal(err)
		}
		c, _ := r.Consumer()
		buf := make([]byte, 64)
		_, n, err := c.ReadContext(ctx, buf)
		fmt.Println(string(buf[:n]), err)
	}()
	r, _ := ring.Init(mem)
	p, _ := r.Producer()
	p.Write(1, []byte("hello"))
	<-done
	// Output: hello <nil>
}

// TryWrite and TryRead never block: ErrFull and ErrEmpty say to come back
// later.
func ExampleProducer_TryWrite() {
	r, _ := ring.Init(make([]byte, ring.Size(64)))
	p, _ := r.Producer()
	c, _ := r.Consumer()
	for i := 0; ; i++ {
		if err := p.TryWrite(uint32(i), make([]byte, 8)); errors.Is(err, ring.ErrFull) {
			fmt.Println("full after", i, "messages")
			break
		}
	}
	buf := make([]byte, 8)
	for {
		if _, _, err := c.TryRead(buf); err == ring.ErrEmpty {
			fmt.Println("empty")
			break
		}
	}
	// Output:
	// full after 4 messages
	// empty
}

// TryClaim and Commit write a message in place, and ReadFunc reads it in
// place: no copies.
func ExampleProducer_TryClaim() {
	r, _ := ring.Init(make([]byte, ring.Size(4096)))
	p, _ := r.Producer()
	c, _ := r.Consumer()
	b, _ := p.TryClaim(7, 5)
	copy(b, "in situ")
	p.Commit()
	c.ReadFunc(context.Background(), func(typ uint32, msg []byte) error {
		fmt.Printf("type %d: %s\n", typ, msg)
		return nil
	})
	// Output: type 7: in si
}
