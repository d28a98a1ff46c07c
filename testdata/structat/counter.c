/*
 * counter: the C peer of shmmap's StructAt tests (structat_test.go).
 *
 *   counter layout      print the layout line and exit
 *   counter SHMID       attach segment SHMID, print the layout line, then
 *                       "ready", and run commands read from stdin, one a
 *                       line:
 *     atomic N S        wait at the start barrier for S, then N atomic
 *                       increments of counter (seq_cst), then done += 1;
 *                       answers "done V", V the counter's value after the
 *                       last increment
 *     plain N S         the same with N plain (volatile, not atomic)
 *                       increments of plain; answers "done V" likewise
 *   EOF on stdin detaches and exits 0. Errors go to stderr, exit 1.
 *
 * The start barrier makes the two loops run together with no sleep: each
 * side adds 1 to start and spins until it reaches S (the Go side sends S,
 * 2 for the first round, 4 for the second). The Go side gives up with a
 * deadline and kills this process; this side needs no timeout.
 */
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>

#include "shared.h"

static void layout(void)
{
	printf("layout ptr=%zu"
	       " shared.size=%zu shared.align=%zu shared.done=%zu shared.start=%zu shared.counter=%zu shared.plain=%zu"
	       " plain64.size=%zu plain64.align=%zu plain64.b=%zu"
	       " atomic64.size=%zu atomic64.align=%zu atomic64.b=%zu\n",
	       sizeof(void *),
	       sizeof(struct structat_shared), _Alignof(struct structat_shared),
	       offsetof(struct structat_shared, done), offsetof(struct structat_shared, start),
	       offsetof(struct structat_shared, counter),
	       offsetof(struct structat_shared, plain),
	       sizeof(struct structat_plain64), _Alignof(struct structat_plain64),
	       offsetof(struct structat_plain64, b),
	       sizeof(struct structat_atomic64), _Alignof(struct structat_atomic64),
	       offsetof(struct structat_atomic64, b));
	fflush(stdout);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: counter layout | counter SHMID\n");
		return 1;
	}
	if (strcmp(argv[1], "layout") == 0) {
		layout();
		return 0;
	}
	char *end;
	long id = strtol(argv[1], &end, 10);
	if (*end != '\0' || id < 0) {
		fprintf(stderr, "counter: bad shmid %s\n", argv[1]);
		return 1;
	}
	void *mem = shmat((int)id, NULL, 0);
	if (mem == (void *)-1) {
		perror("counter: shmat");
		return 1;
	}
	struct structat_shared *p = mem;
	layout();
	printf("ready\n");
	fflush(stdout);

	char line[128];
	while (fgets(line, sizeof line, stdin) != NULL) {
		char mode[16];
		unsigned long long n, i, last = 0;
		unsigned start;
		int atomic;
		if (sscanf(line, "%15s %llu %u", mode, &n, &start) != 3 ||
		    (strcmp(mode, "atomic") != 0 && strcmp(mode, "plain") != 0)) {
			fprintf(stderr, "counter: bad command %s", line);
			return 1;
		}
		atomic = strcmp(mode, "atomic") == 0;
		atomic_fetch_add_explicit(&p->start, 1, memory_order_seq_cst);
		while (atomic_load_explicit(&p->start, memory_order_seq_cst) < start)
			;
		if (atomic) {
			for (i = 0; i < n; i++)
				last = atomic_fetch_add_explicit(&p->counter, 1, memory_order_seq_cst) + 1;
		} else {
			/* volatile: a load, an add and a store each time round,
			 * not one add of n that the compiler would make of it */
			volatile uint64_t *plain = &p->plain;
			for (i = 0; i < n; i++)
				last = ++*plain;
		}
		atomic_fetch_add_explicit(&p->done, 1, memory_order_seq_cst);
		printf("done %llu\n", last);
		fflush(stdout);
	}
	if (shmdt(mem) != 0) {
		perror("counter: shmdt");
		return 1;
	}
	return 0;
}
