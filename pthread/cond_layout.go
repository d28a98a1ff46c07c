package pthread

import (
	"math/bits"
	"sync/atomic"
	"unsafe"
)

// CondSize is sizeof(pthread_cond_t) (__SIZEOF_PTHREAD_COND_T): 48 bytes
// on 64-bit and on 32-bit Linux alike.
const CondSize = 48

// CondAlign is the alignment of pthread_cond_t (its long long member): 8
// on 64-bit Linux, 4 on i386. The memory given to InitCond and CondAt must
// start at a multiple of it.
const CondAlign = bits.UintSize / 8

// condData is glibc 2.36's struct __pthread_cond_s
// (sysdeps/nptl/bits/thread-shared-types.h), the __data member of
// pthread_cond_t; the tests hold it to the C compiler's layout on both
// ABIs. The two 64-bit counters are __atomic_wide_counter unions: a uint64
// (__value64) where the architecture has 64-bit atomic operations, two
// uint32 halves (__value32.__low, __value32.__high) elsewhere.
type condData struct {
	_          [0]uint64 // aligned as the C struct's long long: 8 on amd64, 4 on 386
	Wseq       [8]byte   `c:"__wseq"`
	G1Start    [8]byte   `c:"__g1_start"`
	GRefs      [2]uint32 `c:"__g_refs"`
	GSize      [2]uint32 `c:"__g_size"`
	G1OrigSize uint32    `c:"__g1_orig_size"`
	Wrefs      uint32    `c:"__wrefs"`
	GSignals   [2]uint32 `c:"__g_signals"`
}

// Bits of __wrefs (sysdeps/nptl/internaltypes.h, pthread_cond_wait.c): the
// low three bits are flags, the rest counts waiters in units of 8.
const (
	condSharedMask    = 1 // __PTHREAD_COND_SHARED_MASK: process-shared
	condMonotonicMask = 2 // __PTHREAD_COND_CLOCK_MONOTONIC_MASK
	condWakeRequest   = 4 // pthread_cond_destroy waits for the waiters to leave
	condWrefsOne      = 8 // one waiter reference

	// condMaxGroupSize is __PTHREAD_COND_MAX_GROUP_SIZE.
	condMaxGroupSize = 1 << 29
)

// wideCondNative is __HAVE_64B_ATOMICS: glibc keeps __wseq and __g1_start
// as plain 64-bit counters on every 64-bit architecture and in the 31-bit
// two-halves scheme (misc/atomic_wide_counter.c) elsewhere.
const wideCondNative = bits.UintSize == 64

// wideCounter is one __atomic_wide_counter. In the wide form it is a
// uint64; in the narrow one the 64-bit value is high<<31 + low, and the
// top bit of each half flags an overflow in progress.
type wideCounter struct {
	wide bool
	v64  *uint64
	lo   *uint32 // __value32.__low
	hi   *uint32 // __value32.__high
}

func counterAt(p *[8]byte, wide bool) wideCounter {
	base := unsafe.Pointer(p)
	return wideCounter{
		wide: wide,
		v64:  (*uint64)(base),
		lo:   (*uint32)(base),
		hi:   (*uint32)(unsafe.Add(base, 4)),
	}
}

const msb = uint32(1) << 31

// load is __atomic_wide_counter_load_relaxed.
func (c wideCounter) load() uint64 {
	if c.wide {
		return atomic.LoadUint64(c.v64)
	}
	var h, l uint32
	for {
		h = atomic.LoadUint32(c.hi)
		l = atomic.LoadUint32(c.lo)
		if atomic.LoadUint32(c.hi) == h {
			break
		}
	}
	if l>>31 > 0 && h>>31 > 0 {
		l ^= msb
	}
	return uint64(h&^msb)<<31 + uint64(l)
}

// fetchAdd is __atomic_wide_counter_fetch_add_relaxed (and _acquire; Go's
// atomics are sequentially consistent): it returns the old value.
func (c wideCounter) fetchAdd(op uint32) uint64 {
	if c.wide {
		return atomic.AddUint64(c.v64, uint64(op)) - uint64(op)
	}
	// S1.
	l := atomic.AddUint32(c.lo, op) - op
	h := atomic.LoadUint32(c.hi)
	result := uint64(h)<<31 | uint64(l)
	l += op
	if l>>31 > 0 {
		// Overflow: carry into the high half (S2-S4).
		h++
		atomic.StoreUint32(c.hi, h|msb)
		l ^= msb
		atomic.StoreUint32(c.lo, l)
		atomic.StoreUint32(c.hi, h)
	}
	return result
}

// add is __atomic_wide_counter_add_relaxed: __g1_start has one writer
// (the holder of the condvar-internal lock), so the wide form is a load
// and a store, as in glibc.
func (c wideCounter) add(op uint32) {
	if c.wide {
		atomic.StoreUint64(c.v64, atomic.LoadUint64(c.v64)+uint64(op))
		return
	}
	c.fetchAdd(op)
}

// fetchXor is __condvar_fetch_xor_wseq_release: only called with the
// condvar-internal lock held, which bounds how far concurrent waiters can
// advance the counter meanwhile (less than 1<<31).
func (c wideCounter) fetchXor(val uint32) uint64 {
	if c.wide {
		for {
			old := atomic.LoadUint64(c.v64)
			if atomic.CompareAndSwapUint64(c.v64, old, old^uint64(val)) {
				return old
			}
		}
	}
	var h, l uint32
	for {
		h = atomic.LoadUint32(c.hi)
		l = atomic.LoadUint32(c.lo)
		if atomic.LoadUint32(c.hi) == h {
			break
		}
	}
	if l>>31 > 0 && h>>31 == 0 {
		h++
	}
	h &^= msb
	l &^= msb
	l2 := xorUint32(c.lo, val) &^ msb
	if l2 < l {
		// The low half overflowed in the meantime, exactly once.
		h++
	}
	return uint64(h)<<31 + uint64(l2)
}

// xorUint32 is an atomic fetch-xor (sync/atomic has And and Or only).
func xorUint32(p *uint32, val uint32) uint32 {
	for {
		old := atomic.LoadUint32(p)
		if atomic.CompareAndSwapUint32(p, old, old^val) {
			return old
		}
	}
}

// condFields are the parts of one pthread_cond_t.
type condFields struct {
	d        *condData
	wseq     wideCounter
	g1Start  wideCounter
	gRefs    [2]*uint32
	gSize    [2]*uint32
	origSize *uint32 // __g1_orig_size: size<<2 | the internal lock's state
	wrefs    *uint32
	gSignals [2]*uint32
}

func condFieldsAt(p unsafe.Pointer, wide bool) condFields {
	d := (*condData)(p)
	return condFields{
		d:        d,
		wseq:     counterAt(&d.Wseq, wide),
		g1Start:  counterAt(&d.G1Start, wide),
		gRefs:    [2]*uint32{&d.GRefs[0], &d.GRefs[1]},
		gSize:    [2]*uint32{&d.GSize[0], &d.GSize[1]},
		origSize: &d.G1OrigSize,
		wrefs:    &d.Wrefs,
		gSignals: [2]*uint32{&d.GSignals[0], &d.GSignals[1]},
	}
}
