/* For GoDefs: pointers, a function pointer, a prefix cgo strips
 * (tv_), a nested named struct, an array of anonymous structs, a union
 * and a member beginning with an underscore. */
#include <stdint.h>

struct tspec {
	long tv_sec;
	long tv_nsec;
};

struct node {
	struct node *next;
	char *name;
	void (*cb)(int);
	int32_t vals[4];
	struct tspec ts;
	struct {
		int16_t a;
		int16_t b;
	} pair[2];
	union {
		int32_t i;
		float f;
	} u;
	int _priv;
};

struct with_anon {
	int a;
	struct {
		int b;
		int c;
	};
};

/* Shares struct tspec with struct node, and nests an anonymous struct. */
struct timer {
	struct tspec when;
	struct {
		int8_t k;
	} opt;
};
