/* A message header with the same layout on every ABI: no member is wider
 * than 4 bytes. */
#include <stdint.h>

struct msg {
	uint32_t seq;
	uint16_t len;
	uint16_t flags;
	char body[56];
};
