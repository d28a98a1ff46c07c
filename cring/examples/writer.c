/*
 * writer.c — the article's writer, on a ring instead of a 30-second sleep.
 *
 * It opens the System V segment at key 0x1234 (creating it if it is the
 * first of writer and reader to run, and then formatting the ring), takes
 * the producer role and sends each argument as one message — by default
 * the article's "shared memory here!" — then closes its side. It does not
 * wait for the reader: the messages stay in the segment until the reader,
 * started before or after, has read them. Blocks only if the ring is full.
 *
 *   cc -O2 -o writer writer.c && ./writer [MESSAGE...]
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/shm.h>

#include "../ring.h"

#define KEY 0x1234
#define SIZE 4096 /* a 512-byte header and a 2048-byte ring (the largest power of two that fits) */

/* open_ring: whoever creates the segment formats the ring; the other waits
 * for it (a futex on the magic word, no sleep loop). */
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

int main(int argc, char **argv) {
	struct shmring r;
	int id;
	if (open_ring(&r, &id) < 0) return 1;
	int rc = shmring_producer(&r);
	if (rc) { fprintf(stderr, "producer: %s\n", shmring_strerror(rc)); return 1; }
	const char *article[] = {"shared memory here!"};
	char **msgs = argc > 1 ? argv + 1 : (char **)article;
	int n = argc > 1 ? argc - 1 : 1;
	for (int i = 0; i < n; i++) {
		rc = shmring_write(&r, 1, msgs[i], (uint32_t)strlen(msgs[i]), -1);
		if (rc) { fprintf(stderr, "write: %s\n", shmring_strerror(rc)); return 1; }
	}
	shmring_close(&r); /* the reader sees the end of the stream */
	shmdt(r.base);
	return 0;
}
