package shmmap_test

import (
	"errors"
	"fmt"
	"log"
	"sync/atomic"

	"github.com/shmmap/shmmap"
	"golang.org/x/sys/unix"
)

// SharedCounters is the Go side of a struct shared with a C process, which
// declares it in a header of its own:
//
//	#include <stdint.h>
//
//	struct shared_counters {
//		_Atomic uint32_t ready;    /* 0: set to 1 once name is written   */
//		_Atomic uint64_t requests; /* 8: 8-aligned on i386 too (GCC 11.1+) */
//		_Atomic int64_t  bytes;    /* 16                                  */
//		uint8_t          name[8];  /* 24: written once, before ready      */
//	};                             /* sizeof 32, _Alignof 8 everywhere    */
//
// and counts with atomic_fetch_add(&p->requests, 1), or, with a plain
// uint64_t field, __atomic_fetch_add(&p->requests, 1, __ATOMIC_SEQ_CST)
// (then mind its 4-byte alignment on i386). Every field either side writes
// while the other may look is atomic; name is plain because it is written
// before ready is stored and read only after ready is seen, the store and
// the load ordering it.
type SharedCounters struct {
	Ready    atomic.Uint32
	Requests atomic.Uint64
	Bytes    atomic.Int64
	Name     [8]byte
}

// Counters and a flag shared through a System V segment: one attachment
// writes through its *SharedCounters, another (as another process would)
// reads through its own.
func ExampleStructAt() {
	seg, err := shmmap.CreateSegment(shmmap.IPCPrivate, 4096, 0o600)
	if err != nil {
		log.Fatal(err)
	}
	defer seg.Remove()
	w, err := seg.Attach(shmmap.AttachReadWrite)
	if err != nil {
		log.Fatal(err)
	}
	defer w.Detach()

	c, err := shmmap.StructAt[SharedCounters](w.Bytes(), 0)
	if err != nil {
		log.Fatal(err)
	}
	copy(c.Name[:], "worker")
	c.Ready.Store(1) // publishes Name
	for range 3 {
		c.Requests.Add(1)
		c.Bytes.Add(512)
	}

	r, err := seg.Attach(shmmap.AttachReadOnly)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Detach()
	view, err := shmmap.StructAt[SharedCounters](r.Bytes(), 0) // read-only: only load through it
	if err != nil {
		log.Fatal(err)
	}
	if view.Ready.Load() == 1 {
		fmt.Printf("%s: %d requests, %d bytes\n", view.Name[:6], view.Requests.Load(), view.Bytes.Load())
	}
	// Output: worker: 3 requests, 1536 bytes
}

// Record and Board show what StructAt refuses: a string inside a struct
// inside an array.
type Record struct {
	ID   uint32
	Name string
}

// Board holds Records.
type Board struct {
	Count uint32
	Recs  [4]Record
}

// A type that holds a Go pointer (here a string) is refused, naming the
// field; so is an offset the type does not fit at, or is not aligned for.
func ExampleStructAt_refused() {
	seg, err := shmmap.CreateSegment(shmmap.IPCPrivate, 4096, 0o600)
	if err != nil {
		log.Fatal(err)
	}
	defer seg.Remove()
	shm, err := seg.Attach(shmmap.AttachReadWrite)
	if err != nil {
		log.Fatal(err)
	}
	defer shm.Detach()
	buf := shm.Bytes() // page-aligned

	_, err = shmmap.StructAt[Board](buf, 0)
	fmt.Println(err)
	fmt.Println(errors.Is(err, unix.EINVAL))

	_, err = shmmap.StructAt[SharedCounters](buf, 4)
	fmt.Println(err != nil, errors.Is(err, unix.EINVAL))

	_, err = shmmap.StructAt[SharedCounters](buf, 4080)
	fmt.Println(errors.Is(err, shmmap.ErrOutOfRange))
	// Output:
	// shmmap.StructAt[shmmap_test.Board]: field Recs[].Name is a string: shared memory cannot hold Go pointers (what they point to is in one process's memory, and the garbage collector does not look into shared memory)
	// true
	// true true
	// true
}
