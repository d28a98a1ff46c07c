package ring

import (
	"context"
	"encoding/binary"
	"math/bits"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/shmmap/shmmap/internal/futexwait"
	"golang.org/x/sys/unix"
)

// Layout constants. They are part of the shared format: cring/ring.h has the
// same values under SHMRING_*.
const (
	// HeaderSize is the size of the ring header; records start at this
	// offset.
	HeaderSize = 512
	// RecordHeaderSize is the size of a record header: a uint32 length and
	// a uint32 type.
	RecordHeaderSize = 8
	// Alignment is the alignment of every record, and of positions.
	Alignment = 8
	// MinCapacity and MaxCapacity bound the data area (a power of two).
	MinCapacity = 64
	MaxCapacity = 1 << 30
	// Magic is the first word of an initialised ring (native byte order;
	// the bytes read "SRNG" on a little-endian machine).
	Magic = 0x474E5253
	// Version is the layout version this package reads and writes.
	Version = 1
	// PaddingType is the type of the padding record that fills the end of
	// the data area when a record does not fit before the wrap-around. It
	// cannot be written by users.
	PaddingType = 0xFFFFFFFF
)

// Header offsets (see the package documentation and LAYOUT.md).
const (
	offMagic        = 0x000 // uint32, written last by Init; futex word for AttachContext
	offVersion      = 0x004 // uint32
	offHeaderLen    = 0x008 // uint32 = HeaderSize
	offCapacity     = 0x00C // uint32, power of two
	offMaxMsg       = 0x010 // uint32 = capacity - RecordHeaderSize
	offProducerPID  = 0x040 // uint32: 0 none, pid, or ownerClosed
	offConsumerPID  = 0x044 // uint32: 0 none, pid, or ownerClosed
	offTail         = 0x080 // uint64 producer position, written only by the producer
	offHead         = 0x100 // uint64 consumer position, written only by the consumer
	offDataWaiters  = 0x180 // uint32 futex: 1 while the consumer sleeps waiting for data
	offSpaceWaiters = 0x1C0 // uint32 futex: 1 while the producer sleeps waiting for space
)

// ownerClosed in a pid word means that side closed the ring cleanly.
const ownerClosed = 0xFFFFFFFF

// DefaultPeerCheck is how often a blocked Producer or Consumer wakes to
// check whether the process on the other side is still alive where that
// process's death cannot be watched as an event (no pidfd_open, or a
// pidfd the netpoller refuses; see SetPeerCheck). It also bounds each
// sleep of AttachContext.
const DefaultPeerCheck = 50 * time.Millisecond

// A Ring is a view of a single-producer/single-consumer message ring laid
// out in shared memory. It does not own the memory: the memory must stay
// mapped while the Ring, its Producer or its Consumer is in use. Take the
// producer role with Producer and the consumer role with Consumer; each may
// be held by one process (one Producer or Consumer value) at a time.
type Ring struct {
	mem      []byte
	data     []byte         // mem[HeaderSize : HeaderSize+capacity]
	base     unsafe.Pointer // &data[0], for the record headers of the fast paths
	capacity int
	mask     uint64

	magic        *atomic.Uint32
	producerPID  *atomic.Uint32
	consumerPID  *atomic.Uint32
	tail         *atomic.Uint64
	head         *atomic.Uint64
	dataWaiters  *atomic.Uint32
	spaceWaiters *atomic.Uint32
}

// Size returns the number of bytes of memory a ring with the given data
// capacity (a power of two between MinCapacity and MaxCapacity) occupies:
// HeaderSize + capacity.
func Size(capacity int) int { return HeaderSize + capacity }

// CapacityFor returns the capacity Init chooses for n bytes of memory: the
// largest power of two that fits after the header (at most MaxCapacity), or
// 0 if n is too small for MinCapacity.
func CapacityFor(n int) int {
	avail := n - HeaderSize
	if avail < MinCapacity {
		return 0
	}
	if avail > MaxCapacity {
		avail = MaxCapacity
	}
	return 1 << (bits.Len(uint(avail)) - 1)
}

func checkMem(mem []byte) error {
	if len(mem) == 0 {
		return errorf(ErrInvalid, "no memory")
	}
	if p := uintptr(unsafe.Pointer(unsafe.SliceData(mem))); p%8 != 0 {
		return errorf(ErrInvalid, "memory at %#x is not 8-byte aligned", p)
	}
	return nil
}

// Init formats mem as an empty ring and returns it. The capacity is
// CapacityFor(len(mem)); slice mem to Size(capacity) bytes to choose it. mem
// must be 8-byte aligned (a segment, mapping or shm object from its start
// always is: they are page-aligned) and is typically shared memory another
// process attaches with Attach or AttachContext. Init must not run while
// another process uses the ring.
//
// The header is written first and the magic number last, so a concurrent
// AttachContext sees either no ring or a complete one.
func Init(mem []byte) (*Ring, error) {
	if err := checkMem(mem); err != nil {
		return nil, err
	}
	capacity := CapacityFor(len(mem))
	if capacity == 0 {
		return nil, errorf(ErrInvalid, "%d bytes is too small for a ring: need at least %d", len(mem), Size(MinCapacity))
	}
	r := view(mem, capacity)
	r.magic.Store(0)
	clear(mem[offMagic+4 : HeaderSize])
	ne := binary.NativeEndian
	ne.PutUint32(mem[offVersion:], Version)
	ne.PutUint32(mem[offHeaderLen:], HeaderSize)
	ne.PutUint32(mem[offCapacity:], uint32(capacity))
	ne.PutUint32(mem[offMaxMsg:], uint32(capacity-RecordHeaderSize))
	r.magic.Store(Magic)
	futexWake(r.magic, 1<<30) // every AttachContext waiting for us
	return r, nil
}

// Attach validates the ring Init (in this or another process, in Go or C)
// wrote into mem and returns a view of it. A wrong magic, version, header
// size or capacity, memory shorter than the header says, or inconsistent
// positions give an error wrapping ErrCorrupt that says what is wrong;
// all-zero memory (not initialised yet) gives ErrNotReady.
func Attach(mem []byte) (*Ring, error) {
	if err := checkMem(mem); err != nil {
		return nil, err
	}
	if len(mem) < HeaderSize {
		return nil, errorf(ErrCorrupt, "%d bytes cannot hold a ring (the header alone is %d)", len(mem), HeaderSize)
	}
	magic := (*atomic.Uint32)(unsafe.Pointer(&mem[offMagic])).Load()
	if magic == 0 {
		return nil, ErrNotReady
	}
	if magic != Magic {
		return nil, errorf(ErrCorrupt, "bad magic %#08x, want %#08x: the memory does not hold a ring", magic, Magic)
	}
	ne := binary.NativeEndian
	if v := ne.Uint32(mem[offVersion:]); v != Version {
		return nil, errorf(ErrCorrupt, "layout version %d, this package reads version %d", v, Version)
	}
	if h := ne.Uint32(mem[offHeaderLen:]); h != HeaderSize {
		return nil, errorf(ErrCorrupt, "header size %d, want %d", h, HeaderSize)
	}
	c := ne.Uint32(mem[offCapacity:])
	if c < MinCapacity || c > MaxCapacity || c&(c-1) != 0 {
		return nil, errorf(ErrCorrupt, "capacity %d is not a power of two between %d and %d", c, MinCapacity, MaxCapacity)
	}
	if Size(int(c)) > len(mem) {
		return nil, errorf(ErrCorrupt, "capacity %d needs %d bytes of memory, there are %d", c, Size(int(c)), len(mem))
	}
	if m := ne.Uint32(mem[offMaxMsg:]); m != c-RecordHeaderSize {
		return nil, errorf(ErrCorrupt, "max message %d, want capacity-%d = %d", m, RecordHeaderSize, c-RecordHeaderSize)
	}
	r := view(mem, int(c))
	if head, tail, ok := r.positions(); ok {
		if err := r.checkPositions(head, tail); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// AttachContext is Attach that waits, without polling, while the memory is
// not initialised yet (ErrNotReady), until Init in another process
// completes or ctx is done. It lets two processes start in either order:
// the one that creates the memory calls Init, the other AttachContext.
func AttachContext(ctx context.Context, mem []byte) (*Ring, error) {
	for {
		r, err := Attach(mem)
		if err != ErrNotReady {
			return r, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		word := (*atomic.Uint32)(unsafe.Pointer(&mem[offMagic]))
		d, err := sleepFor(ctx, DefaultPeerCheck)
		if err != nil {
			return nil, err
		}
		stop := afterFunc(ctx, func() { futexWake(word, 1<<30) })
		var fw futexwait.Waiter // no Keep: several may sleep on the magic word
		_, err = futexWait(&fw, word, 0, d)
		stop()
		if err != nil {
			return nil, err
		}
	}
}

// view points r's words into mem; mem has been checked for alignment and
// size.
func view(mem []byte, capacity int) *Ring {
	u32 := func(off int) *atomic.Uint32 { return (*atomic.Uint32)(unsafe.Pointer(&mem[off])) }
	u64 := func(off int) *atomic.Uint64 { return (*atomic.Uint64)(unsafe.Pointer(&mem[off])) }
	return &Ring{
		mem:          mem[:Size(capacity):Size(capacity)],
		data:         mem[HeaderSize : HeaderSize+capacity : HeaderSize+capacity],
		base:         unsafe.Pointer(&mem[HeaderSize]),
		capacity:     capacity,
		mask:         uint64(capacity - 1),
		magic:        u32(offMagic),
		producerPID:  u32(offProducerPID),
		consumerPID:  u32(offConsumerPID),
		tail:         u64(offTail),
		head:         u64(offHead),
		dataWaiters:  u32(offDataWaiters),
		spaceWaiters: u32(offSpaceWaiters),
	}
}

// checkPositions reports ErrCorrupt unless head and tail describe at most
// capacity bytes of whole, aligned records.
func (r *Ring) checkPositions(head, tail uint64) error {
	if head%Alignment != 0 || tail%Alignment != 0 || tail-head > uint64(r.capacity) {
		return errorf(ErrCorrupt, "consumer position %d and producer position %d are inconsistent for capacity %d", head, tail, r.capacity)
	}
	return nil
}

// Capacity returns the size of the data area in bytes.
func (r *Ring) Capacity() int { return r.capacity }

// MaxMessage returns the largest message the ring carries: Capacity()-8.
// A message that large needs the whole ring, so the producer waits until
// the consumer has read everything before it.
func (r *Ring) MaxMessage() int { return r.capacity - RecordHeaderSize }

// Len returns the number of bytes of records written and not yet read
// (headers and padding included), a snapshot.
func (r *Ring) Len() int {
	head, tail, ok := r.positions()
	if !ok {
		return 0 // both ends racing ahead; any snapshot is stale at once
	}
	return int(min(tail-head, uint64(r.capacity)))
}

// positions returns a consistent snapshot of the consumer and producer
// positions while both ends may be moving: tail, head, then tail again, so
// that the head was read while the tail had the value returned (the two
// satisfy head <= tail <= head+capacity). ok is false if the producer kept
// moving through every try.
func (r *Ring) positions() (head, tail uint64, ok bool) {
	for range 100 {
		tail = r.tail.Load()
		head = r.head.Load()
		if r.tail.Load() == tail {
			return head, tail, true
		}
	}
	return 0, 0, false
}

// claimRole takes a pid word for this process: it must be free, closed, or
// held by a dead process.
func claimRole(word *atomic.Uint32, role string) error {
	self := uint32(unix.Getpid())
	for range 1000 {
		old := word.Load()
		if old != 0 && old != ownerClosed {
			if old == self {
				return errorf(ErrInUse, "the %s role is already held in this process", role)
			}
			if !pidDead(int(old)) {
				return errorf(ErrInUse, "the %s role is held by live process %d", role, old)
			}
		}
		if word.CompareAndSwap(old, self) {
			return nil
		}
	}
	return errorf(ErrInUse, "the %s role keeps changing hands", role)
}

// Stats counts how a Producer or Consumer waited; it is what the stress
// tests look at to know that they forced the sleep/wake paths.
type Stats struct {
	Sleeps   uint64 // futex waits entered, or parks in the lot with the peer in this process
	Wakes    uint64 // wakes issued to the other side (FUTEX_WAKE, or a hand-off in the lot)
	Timeouts uint64 // futex waits that ended by timeout (peer checks)
}

type stats struct{ sleeps, wakes, timeouts atomic.Uint64 }

func (s *stats) get() Stats {
	return Stats{Sleeps: s.sleeps.Load(), Wakes: s.wakes.Load(), Timeouts: s.timeouts.Load()}
}

func align(n uint64) uint64 { return (n + Alignment - 1) &^ (Alignment - 1) }

// header returns the record header at offset idx of the data area (idx is
// a multiple of 8 below the capacity, so the 8 bytes are inside it): its
// length and type words, in the machine's byte order, without the bounds
// checks a slice would cost.
func (r *Ring) header(idx uint64) *[2]uint32 {
	return (*[2]uint32)(unsafe.Add(r.base, idx))
}
