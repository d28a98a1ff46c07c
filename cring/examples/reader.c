/*
 * reader.c — the article's reader, on a ring: it opens (or creates) the
 * segment at key 0x1234 exactly as writer.c does, takes the consumer role,
 * prints every message the writer sends, one per line, as it arrives —
 * sleeping on a futex while there is none — and stops when the writer has
 * closed its side and everything has been read. Then it removes the
 * segment. Either program may start first; neither sleeps.
 *
 *   cc -O2 -o reader reader.c && ./reader
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/shm.h>

#include "../ring.h"

#define KEY 0x1234
#define SIZE 4096

static int open_ring(struct shmring *r, int *id) {
	int created = 1;
	*id = shmget(KEY, SIZE, IPC_CREAT | IPC_EXCL | 0600);
	if (*id < 0 && errno == EEXIST) {
		created = 0;
		*id = shmget(KEY, 0, 0);
	}
	if (*id < 0) { perror("shmget error!"); return -1; }
	struct shmid_ds ds;
	void *mem = shmat(*id, NULL, 0);
	if (mem == (void *)-1 || shmctl(*id, IPC_STAT, &ds) < 0) { perror("shmat error!"); return -1; }
	int rc = created ? shmring_init(r, mem, ds.shm_segsz) : shmring_attach_wait(r, mem, ds.shm_segsz, 10000);
	if (rc) { fprintf(stderr, "ring: %s\n", shmring_strerror(rc)); return -1; }
	return 0;
}

int main(void) {
	struct shmring r;
	int id;
	static char buf[4096];
	if (open_ring(&r, &id) < 0) return 1;
	int rc = shmring_consumer(&r);
	if (rc) { fprintf(stderr, "consumer: %s\n", shmring_strerror(rc)); return 1; }
	for (;;) {
		uint32_t type;
		size_t n;
		rc = shmring_read(&r, &type, buf, sizeof buf, &n, -1);
		if (rc) break;
		printf("%.*s\n", (int)n, buf);
		fflush(stdout);
	}
	if (rc != SHMRING_EOF) { fprintf(stderr, "read: %s\n", shmring_strerror(rc)); return 1; }
	shmring_close(&r);
	shmdt(r.base);
	shmctl(id, IPC_RMID, NULL); /* the reader is the last user */
	return 0;
}
