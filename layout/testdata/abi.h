/* A struct laid out differently by the x86-64 (LP64) and i386 (ILP32)
 * ABIs: long and pointers are 8 bytes on the first, 4 on the second, and
 * i386 aligns long long and double to 4 inside structs where x86-64
 * aligns them to 8. */
#include <stdint.h>

struct abi {
	int32_t kind;
	long count;
	int32_t flags;
	long long total;
	double avg;
	uintptr_t addr;
	char *name;
	char tag[3];
};

/* The same bytes on both ABIs up to b's alignment: i386 puts b at 4,
 * x86-64 at 8. */
struct after_int {
	int32_t a;
	long long b;
};
