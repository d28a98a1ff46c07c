package posixsem

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	// Size is sizeof(sem_t) (__SIZEOF_SEM_T): 32 on 64-bit Linux, 16 on
	// 32-bit. A sem.NAME file is exactly this long.
	Size = bits.UintSize / 2
	// Align is the alignment of sem_t (a union with a long): the memory
	// given to Init and At must start at a multiple of it.
	Align = bits.UintSize / 8
	// ValueMax is SEM_VALUE_MAX, the largest value a semaphore holds; Post
	// at this value fails with EOVERFLOW and Open and Init refuse larger
	// initial values with EINVAL.
	ValueMax = math.MaxInt32
)

// wideNative is __HAVE_64B_ATOMICS: glibc uses the 64-bit layout on every
// 64-bit architecture and the 32-bit one elsewhere.
const wideNative = bits.UintSize == 64

// Offsets of struct new_sem's fields (sysdeps/nptl/internaltypes.h).
const (
	// 64-bit layout.
	wideData    = 0  // uint64: value | nwaiters<<32
	widePrivate = 8  // int32
	widePad     = 12 // int32
	wideSize    = 32 // sizeof(sem_t) with __WORDSIZE 64

	nwaitersShift = 32             // SEM_NWAITERS_SHIFT
	valueMask     = math.MaxUint32 // SEM_VALUE_MASK
	oneWaiter     = 1 << nwaitersShift

	// 32-bit layout.
	narrowValue    = 0  // uint32: value<<1 | waiters-present bit
	narrowPrivate  = 4  // int32
	narrowPad      = 8  // int32
	narrowNwaiters = 12 // uint32
	narrowSize     = 16 // sizeof(sem_t) with __WORDSIZE 32

	valueShift   = 1 // SEM_VALUE_SHIFT
	nwaitersMask = 1 // SEM_NWAITERS_MASK
)

// bigEndian says where the value half of the 64-bit data word is
// (SEM_VALUE_OFFSET).
var bigEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 0
}()

// layout is one of the two struct new_sem layouts. Production code uses
// the native one; the tests also run the 32-bit algorithm on 64-bit
// machines.
type layout struct {
	wide  bool
	size  int     // sizeof(sem_t)
	align uintptr // alignof(sem_t), and what the atomic operations need
}

var (
	layoutWide   = layout{wide: true, size: wideSize, align: 8}
	layoutNarrow = layout{wide: false, size: narrowSize, align: 4}
)

func nativeLayout() layout {
	if wideNative {
		return layoutWide
	}
	return layoutNarrow
}

// fields are pointers to the fields of a sem_t at p in the given layout.
type fields struct {
	data     *uint64 // wide: value and nwaiters
	word     *uint32 // the futex word: the value half of data, or value
	nwaiters *uint32 // narrow only
	private  *int32
	pad      *int32
}

func fieldsAt(p unsafe.Pointer, l layout) fields {
	if l.wide {
		f := fields{
			data:    (*uint64)(unsafe.Add(p, wideData)),
			word:    (*uint32)(unsafe.Add(p, wideData)),
			private: (*int32)(unsafe.Add(p, widePrivate)),
			pad:     (*int32)(unsafe.Add(p, widePad)),
		}
		if bigEndian {
			f.word = (*uint32)(unsafe.Add(p, wideData+4))
		}
		return f
	}
	return fields{
		word:     (*uint32)(unsafe.Add(p, narrowValue)),
		nwaiters: (*uint32)(unsafe.Add(p, narrowNwaiters)),
		private:  (*int32)(unsafe.Add(p, narrowPrivate)),
		pad:      (*int32)(unsafe.Add(p, narrowPad)),
	}
}

// checkMemory validates memory for a sem_t in layout l: long enough and
// aligned as sem_t; anything else is EINVAL.
func checkMemory(mem []byte, l layout) error {
	if len(mem) < l.size {
		return fmt.Errorf("%d bytes of memory, a sem_t needs %d: %w", len(mem), l.size, unix.EINVAL)
	}
	if addr := uintptr(unsafe.Pointer(&mem[0])); addr%l.align != 0 {
		return fmt.Errorf("memory at %#x is not %d-byte aligned as a sem_t must be: %w", addr, l.align, unix.EINVAL)
	}
	return nil
}

// checkContents validates an initialised sem_t: a process-shared semaphore
// (private FUTEX_SHARED) with a value no larger than SEM_VALUE_MAX. The
// contents of a sem.NAME file (file is its path) are also checked for what
// sem_open writes and nothing changes: pad and the unused tail are zero.
func checkContents(mem []byte, l layout, file string) error {
	f := fieldsAt(unsafe.Pointer(&mem[0]), l)
	where := ""
	if file != "" {
		where = file + ": "
	}
	switch priv := *f.private; priv {
	case futexShared:
	case futexPrivate:
		return notSem("%sthe private field is 0 (FUTEX_PRIVATE): sem_init with pshared 0, or never initialised", where)
	default:
		return notSem("%sthe private field is %#x, glibc writes 0 or 0x80", where, uint32(priv))
	}
	if l.wide {
		if v := atomic.LoadUint32(f.word); v > ValueMax {
			return notSem("%sthe value field is %#x, above SEM_VALUE_MAX", where, v)
		}
	}
	if file == "" {
		return nil
	}
	if *f.pad != 0 {
		return notSem("%sthe pad field is %#x, sem_open writes 0", where, uint32(*f.pad))
	}
	for i := widePad + 4; l.wide && i < l.size; i++ {
		if mem[i] != 0 {
			return notSem("%sbyte %d is %#x, sem_open writes 0 after struct new_sem", where, i, mem[i])
		}
	}
	return nil
}

// initContents is what sem_open writes to a new sem.NAME file
// (__new_sem_open_init): value, no waiters, FUTEX_SHARED, zeroes.
func initContents(value uint32, l layout) []byte {
	b := make([]byte, l.size)
	if l.wide {
		binary.NativeEndian.PutUint64(b[wideData:], uint64(value))
		binary.NativeEndian.PutUint32(b[widePrivate:], futexShared)
	} else {
		binary.NativeEndian.PutUint32(b[narrowValue:], value<<valueShift)
		binary.NativeEndian.PutUint32(b[narrowPrivate:], futexShared)
	}
	return b
}
