/*
 * producer.c — queues items for the consumer: `producer [-die-after K] PATH N`
 * creates the queue for ftok(PATH, 'P') (a new segment of
 * sizeof(struct queue), 0600: it fails if one exists), initialises its robust
 * process-shared mutex and its two condition variables, says so on a line
 * of its own, and queues the items 1..N (queue_item), waiting on not_full
 * while the queue is full. Then it sets done, wakes the consumer, prints the
 * checksum of what it queued and detaches; the consumer removes the queue.
 *
 * -die-after K is fault injection, for the demo and the tests: once K items
 * have been queued and taken, the producer kills itself with SIGKILL while
 * holding the lock, halfway through queuing item K+1 (the item and tail
 * written, count not yet). Waiting for the consumer to take the first K
 * items first makes the consumer's output the same in every run.
 *
 *   cc -O2 -o producer producer.c -pthread && ./producer /etc/hostname 40
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include "queue.h"

#define MAX_ITEMS 1000000

/* count parses a decimal count 0..MAX_ITEMS, as strtol reads it, with
 * nothing after it; -1 if it is not one. */
static long count(const char *s) {
	char *end;
	errno = 0;
	long n = strtol(s, &end, 10);
	if (end == s || *end != '\0' || errno != 0 || n < 0 || n > MAX_ITEMS) return -1;
	return n;
}

static int fail(const char *what, int err) {
	fprintf(stderr, "producer: %s: %s\n", what, strerror(err));
	return 1;
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IOLBF, 0); /* every line out before a SIGKILL */
	long die_after = -1;
	if (argc == 5 && strcmp(argv[1], "-die-after") == 0) {
		if ((die_after = count(argv[2])) < 0) { fprintf(stderr, "producer: K must be 0..%d\n", MAX_ITEMS); return 2; }
		argv += 2, argc -= 2;
	}
	if (argc != 3) { fprintf(stderr, "usage: producer [-die-after K] PATH N\n"); return 2; }
	long n = count(argv[2]);
	if (n < 0) { fprintf(stderr, "producer: N must be 0..%d\n", MAX_ITEMS); return 2; }

	key_t key = ftok(argv[1], QUEUE_PROJ);
	if (key == -1) { perror("ftok"); return 1; }
	int shmid = shmget(key, sizeof(struct queue), IPC_CREAT | IPC_EXCL | 0600);
	if (shmid == -1) { perror("shmget"); return 1; }
	struct queue *q = shmat(shmid, NULL, 0);
	if (q == (void *)-1) { perror("shmat"); shmctl(shmid, IPC_RMID, NULL); return 1; }

	/* The segment is new, so all zeroes: head, tail, count 0, done
	 * QUEUE_PRODUCING. The mutex and the condition variables are
	 * initialised for use by several processes, and magic is stored last:
	 * a consumer that sees it sees them initialised. */
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	int err = pthread_mutex_init(&q->lock, &ma);
	if (err) return fail("pthread_mutex_init", err);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if ((err = pthread_cond_init(&q->not_empty, &ca)) || (err = pthread_cond_init(&q->not_full, &ca)))
		return fail("pthread_cond_init", err);
	__atomic_store_n(&q->magic, QUEUE_MAGIC, __ATOMIC_RELEASE);
	printf("producer: queue ready, %d slots, %ld items to queue\n", QUEUE_SLOTS, n);

	uint64_t sum = 0;
	for (uint32_t i = 1; i <= n; i++) {
		int dies = die_after >= 0 && i == die_after + 1;
		if ((err = pthread_mutex_lock(&q->lock))) return fail("pthread_mutex_lock", err);
		while (q->count == QUEUE_SLOTS || (dies && q->count > 0))
			if ((err = pthread_cond_wait(&q->not_full, &q->lock))) return fail("pthread_cond_wait", err);
		uint64_t v = queue_item(i);
		q->items[q->tail % QUEUE_SLOTS] = v;
		q->tail++;
		if (dies) {
			printf("producer: killing myself (SIGKILL) holding the lock, halfway through queuing item %" PRIu32 "\n", i);
			raise(SIGKILL);
		}
		q->count++;
		pthread_cond_signal(&q->not_empty);
		pthread_mutex_unlock(&q->lock);
		sum = queue_sum(sum, v);
	}

	if ((err = pthread_mutex_lock(&q->lock))) return fail("pthread_mutex_lock", err);
	q->done = QUEUE_FINISHED;
	pthread_cond_broadcast(&q->not_empty);
	pthread_mutex_unlock(&q->lock);
	printf("producer: queued %ld items, checksum %016" PRIx64 "\n", n, sum);
	shmdt(q);
	return 0;
}
