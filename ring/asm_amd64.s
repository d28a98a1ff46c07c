#include "textflag.h"

// func pause()
TEXT ·pause(SB), NOSPLIT, $0-0
	PAUSE
	RET

// func repMovsb(dst, src *byte, n uintptr), n >= 64: the first 64 bytes
// with vector moves, then REP MOVSB from the first 64-byte boundary of dst
// on (the first part copied again where they overlap).
TEXT ·repMovsb(SB), NOSPLIT, $0-24
	MOVQ	dst+0(FP), DI
	MOVQ	src+8(FP), SI
	MOVQ	n+16(FP), CX
	MOVOU	0(SI), X0
	MOVOU	16(SI), X1
	MOVOU	32(SI), X2
	MOVOU	48(SI), X3
	MOVOU	X0, 0(DI)
	MOVOU	X1, 16(DI)
	MOVOU	X2, 32(DI)
	MOVOU	X3, 48(DI)
	LEAQ	64(DI), AX
	ANDQ	$-64, AX
	SUBQ	DI, AX // 1 to 64: how far the boundary is
	ADDQ	AX, DI
	ADDQ	AX, SI
	SUBQ	AX, CX
	REP;	MOVSB
	RET
