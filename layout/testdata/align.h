/* Alignments Go cannot reproduce, and one it can. */
#include <stdint.h>

/* A member aligned above 8 by an attribute on its declaration. */
struct al {
	char c;
	int x __attribute__((aligned(16)));
};

/* A member aligned above 8 by its type. */
typedef int aint16 __attribute__((aligned(16)));
struct al_type {
	char c;
	aint16 x;
};

/* A packed struct: x at offset 1. */
struct pk {
	char c;
	int64_t x;
	int32_t y;
} __attribute__((packed));

/* Packed by #pragma pack, with every member where it would be anyway
 * but the struct aligned to 1 (and 12 bytes, not 16). */
#pragma pack(push, 1)
struct pk_pragma {
	int64_t a;
	int32_t b;
};
#pragma pack(pop)

/* A naturally laid out struct packed inside another. */
struct inner {
	int32_t a;
	int32_t b;
};
struct pk_outer {
	char c;
	struct inner in;
} __attribute__((packed));

/* A C11 anonymous struct, not packed itself, at offset 1 of a packed
 * one: its member a is aligned to 4 within it, but at offset 1. */
struct pk_anon {
	char c;
	struct {
		int32_t a;
	};
} __attribute__((packed));

/* Packed, but only a flexible array member would be misaligned, and it
 * occupies nothing: Go can match this one. */
struct pk_flex {
	char c;
	int32_t rest[];
} __attribute__((packed));

/* Aligned to 8, which Go can do on every ABI (see ExampleCheck_aligned). */
struct al8 {
	char c;
	_Alignas(8) int32_t x;
};
