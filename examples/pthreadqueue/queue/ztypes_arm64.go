// Written by hand from ztypes_lp64.go: aarch64's glibc pthread_mutex_t is
// 48 bytes (__SIZEOF_PTHREAD_MUTEX_T in sysdeps/aarch64/nptl/bits/
// pthreadtypes-arch.h), 8 more than x86-64's, which moves every later
// field by 8. Not checked by a test: the project runs no arm64 C.

package queue

// Queue is struct queue of c/queue.h as aarch64 lays it out.
type Queue struct {
	Lock  [48]byte
	Empty [48]byte `c:"not_empty"`
	Full  [48]byte `c:"not_full"`
	Magic uint32
	Done  uint32
	Head  uint32
	Tail  uint32
	Count uint32
	Items [16]uint64
}
