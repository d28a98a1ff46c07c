/*
 * board.h — the status board: one process publishes a struct of mixed
 * fields in a System V segment keyed by ftok(PATH, 'B'), guarded by a
 * one-semaphore set at the same key; any number of others print it.
 *
 * Typical of legacy C IPC code, and of its portability traps: `long` is 8
 * bytes on x86-64 and 4 on i386, and i386 aligns `double` to 4 inside a
 * struct, so sizeof(struct board) is 256 on x86-64 and 212 on i386. A
 * 32-bit and a 64-bit process cannot share this board; a Go port must
 * match whichever ABI its peer has (see ../README.md).
 */
#ifndef BOARD_H
#define BOARD_H

#include <stdint.h>

#define BOARD_PROJ 'B'
#define BOARD_RECORDS 8

struct record {
	uint32_t id;
	int16_t temp;   /* tenths of a degree */
	uint8_t state;  /* 0 ok, 1 warn, 2 fail */
	char tag[5];    /* NUL-terminated */
	double reading;
};

struct board {
	long seq;       /* bumped by every publish */
	double load;
	char name[32];  /* NUL-terminated */
	uint16_t nrec;  /* records in use */
	struct record recs[BOARD_RECORDS];
	long updated;   /* seq * 60: a stand-in for a timestamp */
};

#endif
