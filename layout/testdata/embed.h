/* A named struct member, an array of unions and an anonymous struct, for
 * Go's embedded fields and byte arrays. */
#include <stdint.h>

struct header {
	uint32_t magic;
	uint32_t len;
};

union word {
	uint32_t u;
	float f;
};

struct packet {
	struct header header;
	union word words[2];
	struct {
		uint16_t a, b;
	};
	uint8_t data[8];
};
