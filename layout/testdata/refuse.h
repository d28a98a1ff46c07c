/* What layout.Check refuses. */
struct bits {
	int a;
	unsigned mode : 3;
	unsigned rest : 29;
};

struct anon_union {
	int kind;
	union {
		int i;
		float f;
	};
};

union number {
	int i;
	float f;
};

typedef int notstruct_t;

struct cplx {
	double _Complex z;
};

struct incomplete;

struct one {
	int a;
};

/* Go has no type for these: a long double (16 bytes on x86-64, 12 on
 * i386), a 128-bit integer (x86-64 only) and a 128-bit float. */
struct ldbl {
	int a;
	long double ld;
};

#ifdef __SIZEOF_INT128__
struct i128 {
	unsigned __int128 u;
};
#endif

struct f128 {
	_Float128 q;
};

/* A function type, not an object type. */
typedef int fn_t(void);
