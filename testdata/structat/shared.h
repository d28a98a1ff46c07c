/*
 * The struct a C process and a Go process share through shmmap.StructAt in
 * structat_test.go. Its layout is the same in every ABI the tests use
 * (x86-64, and i386 with GCC 11.1 or later), and it matches this Go type:
 *
 *	type structAtShared struct {
 *		Done    atomic.Uint32 // offset 0
 *		Start   atomic.Uint32 // offset 4
 *		Counter atomic.Uint64 // offset 8: 8-aligned on 386 too
 *		Plain   uint64        // offset 16
 *	}                         // size 24, align 8
 *
 * The C side reports offsetof/sizeof/_Alignof at startup and the Go test
 * compares them with unsafe.Offsetof/Sizeof/Alignof, so a mismatch fails
 * loudly.
 */
#ifndef STRUCTAT_SHARED_H
#define STRUCTAT_SHARED_H

#include <stdint.h>

struct structat_shared {
	_Atomic uint32_t done;    /* each side adds 1 when its loop ends */
	_Atomic uint32_t start;   /* the start barrier: each side adds 1, then waits for the other */
	_Atomic uint64_t counter; /* atomic increments from both sides */
	uint64_t plain;           /* plain increments from both sides: the control, racy on purpose */
};

/*
 * The 32-bit subtlety, measured rather than assumed: on i386 a plain
 * uint64_t inside a struct is 4-aligned (b at offset 4, like Go's plain
 * uint64 on 386) but an _Atomic uint64_t is 8-aligned (b at offset 8, like
 * Go's atomic.Uint64 everywhere). On x86-64 both are at 8.
 */
struct structat_plain64 {
	uint32_t a;
	uint64_t b;
};

struct structat_atomic64 {
	uint32_t a;
	_Atomic uint64_t b;
};

#endif
