/*
 * msgqueue.h — the protocol of a classic System V message-queue server and
 * its clients: one queue, keyed by ftok(PATH, 'Q'), carries both ways.
 * Requests go to the server as mtype 1; the server answers each on the same
 * queue with mtype = the client's pid, which the client put in the request,
 * so any number of clients share the queue and each receives only its own
 * answers. (A client whose pid is 1 would receive requests: the protocol's
 * blind spot, which a pid namespace's init can hit.)
 *
 * Typical of legacy C IPC code, and of its portability trap: `long` is 8
 * bytes on x86-64 and 4 on i386. The kernel translates the `long mtype` in
 * front of every message for a 32-bit process, but nothing translates the
 * body: struct request's body (long pid, int op, char text[64]) is 80 bytes
 * on x86-64 (8 + 4 + 64 = 76, padded to a multiple of 8 for the long) and
 * 72 on i386 (4 + 4 + 64), and every field after pid is elsewhere. A 32-bit
 * and a 64-bit program cannot exchange requests; the server refuses a
 * request of the wrong size, telling the client why (see server.c), rather
 * than reading garbage. The reply body (int status, char text[64]) is 68
 * bytes on both.
 *
 * Sizes given to msgsnd and msgrcv are those of the bodies, never
 * sizeof(struct request) - sizeof(long): that classic idiom counts the
 * padding after the body too (the struct reply is 80 bytes on x86-64,
 * 72 on i386, for a 68-byte body).
 */
#ifndef MSGQUEUE_H
#define MSGQUEUE_H

#define MSGQ_PROJ 'Q'   /* ftok's project id */
#define MSGQ_REQUEST 1L /* the mtype of every request */
#define MSGQ_TEXT 64    /* text fields, NUL included */

enum op {
	OP_UPPER = 1,    /* text in upper case (ASCII letters only, as toupper in the C locale) */
	OP_ADD = 2,      /* the sum of the whitespace-separated integers in text */
	OP_SHUTDOWN = 3, /* the server removes the queue and exits; no answer */
};

enum status {
	ST_OK = 0,      /* text is the answer */
	ST_BAD = 1,     /* the request was wrong; text says how */
	ST_REFUSED = 2, /* the request was not this server's size (another ABI?); text says so */
};

struct request {
	long mtype; /* MSGQ_REQUEST */
	struct {
		long pid;             /* the client's: the mtype of the answer */
		int op;               /* enum op */
		char text[MSGQ_TEXT]; /* NUL-terminated */
	} body;
};

struct reply {
	long mtype; /* the client's pid */
	struct {
		int status;           /* enum status */
		char text[MSGQ_TEXT]; /* NUL-terminated */
	} body;
};

#endif
