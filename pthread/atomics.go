package pthread

import "sync/atomic"

// Short names for the atomic operations on the mutex's lock word (and the
// loads of its other fields, which may race with their owner's writes).

func loadU32(p *uint32) uint32             { return atomic.LoadUint32(p) }
func casU32(p *uint32, old, v uint32) bool { return atomic.CompareAndSwapUint32(p, old, v) }
func swapU32(p *uint32, v uint32) uint32   { return atomic.SwapUint32(p, v) }
func loadI32(p *int32) int32               { return atomic.LoadInt32(p) }

// writeU32, writeI32 and addToU32 write __owner, __count and __nusers,
// which glibc 2.36 writes with plain stores and a plain add (its
// pthread_mutex_lock records the owner with "mutex->__data.__owner = id;
// ++mutex->__data.__nusers;", compiled on x86-64 to a mov and an addl
// without a lock prefix, after the lock word's lock cmpxchg; its unlock
// clears them the same way before the xchg that releases the lock word).
// Only the holder writes them, between taking and releasing the lock
// word, whose atomic operations order them for the next holder; others
// only read them (atomically, aligned words: no tearing), as glibc's
// owner checks do. Here they are plain stores too, but in a race-detector
// build (field_race.go), where the memory may be the Go heap and a
// non-holder's read of __owner would be reported against a plain write;
// the race detector does not track shared mappings either way.
//
// writeWord writes the robust list's words (list_op_pending, the heads'
// and the mutexes' links) the same way: glibc's ENQUEUE_MUTEX,
// DEQUEUE_MUTEX and list_op_pending updates are plain stores, ordered by
// compiler barriers only, since the only other reader is the kernel
// walking the list of this same thread when it exits. Atomic stores
// there (an XCHG each on x86-64) doubled the cost of a robust lock+unlock.
