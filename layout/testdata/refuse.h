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
