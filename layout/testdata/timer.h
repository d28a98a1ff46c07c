/* Two structs sharing a third, with the same layout on every ABI. */
#include <stdint.h>

struct span {
	uint32_t from, to;
};

struct timer {
	struct span when;
	uint32_t flags;
};

struct alarm {
	struct span when;
	struct span snooze;
};
