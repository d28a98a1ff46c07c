package pthread

import (
	"math"
	"math/bits"
	"unsafe"
)

// is64 is 1 where pointers and long are 64 bits (glibc's
// __PTHREAD_MUTEX_HAVE_PREV: the robust list is doubly linked), else 0.
const is64 = bits.UintSize / 64

const (
	// MutexSize is sizeof(pthread_mutex_t): 40 bytes on 64-bit Linux
	// (x86-64), 24 on 32-bit (i386). InitMutex and MutexAt use the first
	// MutexSize bytes of the memory they are given.
	MutexSize = 24 + 16*is64
	// MutexAlign is the alignment of pthread_mutex_t (that of a long): the
	// memory given to InitMutex and MutexAt must start at a multiple of it.
	MutexAlign = bits.UintSize / 8
)

// Field offsets of struct __pthread_mutex_s
// (sysdeps/x86/nptl/bits/struct_mutex.h in glibc 2.36). On x86-64:
//
//	0 int __lock; 4 unsigned __count; 8 int __owner; 12 unsigned __nusers;
//	16 int __kind; 20 short __spins; 22 short __elision;
//	24 __pthread_list_t __list { 24 __prev; 32 __next }
//
// On i386 __nusers and __kind trade places and the list is singly linked,
// in a union with the elision data:
//
//	0 __lock; 4 __count; 8 __owner; 12 __kind; 16 __nusers;
//	20 union { struct { short __espins, __eelision; }; __pthread_slist_t __list { 20 __next } }
const (
	offLock     = 0
	offCount    = 4
	offOwner    = 8
	offNusers   = 16 - 4*is64
	offKind     = 12 + 4*is64
	offSpins    = 20           // short __spins (i386: __espins)
	offListPrev = 24           // 64-bit only
	offListNext = 20 + 12*is64 // where the robust list entries point
)

// __kind bits (nptl/pthreadP.h).
const (
	kindTimed      = 0 // PTHREAD_MUTEX_TIMED_NP, PTHREAD_MUTEX_NORMAL/DEFAULT
	kindRecursive  = 1 // PTHREAD_MUTEX_RECURSIVE_NP
	kindErrorCheck = 2 // PTHREAD_MUTEX_ERRORCHECK_NP
	kindAdaptive   = 3 // PTHREAD_MUTEX_ADAPTIVE_NP
	kindMask       = 3 // PTHREAD_MUTEX_KIND_MASK_NP

	kindRobust      = 16  // PTHREAD_MUTEX_ROBUST_NORMAL_NP
	kindPrioInherit = 32  // PTHREAD_MUTEX_PRIO_INHERIT_NP
	kindPrioProtect = 64  // PTHREAD_MUTEX_PRIO_PROTECT_NP
	kindPshared     = 128 // PTHREAD_MUTEX_PSHARED_BIT
	kindElision     = 256 // PTHREAD_MUTEX_ELISION_NP
	kindNoElision   = 512 // PTHREAD_MUTEX_NO_ELISION_NP

	// typeMask is PTHREAD_MUTEX_TYPE: the kind without the pshared and
	// elision bits.
	typeMask = 127
)

// __owner values of a robust mutex whose owner died (pthreadP.h).
const (
	ownerInconsistent   = math.MaxInt32     // PTHREAD_MUTEX_INCONSISTENT
	ownerNotRecoverable = math.MaxInt32 - 1 // PTHREAD_MUTEX_NOTRECOVERABLE
)

// fields points at the fields of a pthread_mutex_t.
type fields struct {
	lock     *uint32
	count    *uint32
	owner    *int32
	nusers   *uint32
	kind     *int32
	listPrev *uintptr // nil on 32-bit
	listNext *uintptr
}

func fieldsAt(p unsafe.Pointer) fields {
	f := fields{
		lock:     (*uint32)(unsafe.Add(p, offLock)),
		count:    (*uint32)(unsafe.Add(p, offCount)),
		owner:    (*int32)(unsafe.Add(p, offOwner)),
		nusers:   (*uint32)(unsafe.Add(p, offNusers)),
		kind:     (*int32)(unsafe.Add(p, offKind)),
		listNext: (*uintptr)(unsafe.Add(p, offListNext)),
	}
	if is64 == 1 {
		f.listPrev = (*uintptr)(unsafe.Add(p, offListPrev))
	}
	return f
}
