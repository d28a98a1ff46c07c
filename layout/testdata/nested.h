/* Typedefs, nested and anonymous structs, arrays of structs,
 * multi-dimensional arrays, a union, qualifiers, an enum, a pointer and a
 * flexible array member. */
#include <stdint.h>

typedef struct {
	uint16_t x, y;
} point_t;

struct rec {
	int32_t id;
	double v;
	char name[5];
};

typedef int row_t[3];

struct nested {
	char c;
	struct rec recs[3];
	point_t pts[2][2];
	struct {
		int8_t a;
		int64_t b;
	} inner;
	struct {
		uint8_t lo;
		uint32_t hi;
	};
	row_t grid[2];
	union {
		float f;
		uint32_t u;
	} bits;
	const volatile uint64_t cv;
	_Atomic uint32_t at;
	enum { RED, GREEN } color;
	_Bool ok;
	void *ptr;
	char tail[];
};

typedef struct nested nested_t;
