/* Structs whose members Go can match exactly and whose size or
 * alignment it cannot without care. */
#include <stdint.h>

struct pad {
	int64_t a;
	int32_t b;
};

struct packed {
	int64_t a;
	int32_t b;
} __attribute__((packed));

struct aligned16 {
	int64_t a;
	int32_t b;
} __attribute__((aligned(16)));
