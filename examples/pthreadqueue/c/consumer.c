/*
 * consumer.c — takes and prints the producer's items: `consumer PATH` finds
 * the queue for ftok(PATH, 'P') (it never creates one; start it once the
 * producer has said the queue is ready), and prints each item it takes,
 * until the producer has finished and the queue is empty. Then it prints
 * how many items it took and their checksum, and removes the queue.
 *
 * The producer may die holding the lock. The consumer then gets EOWNERDEAD
 * from pthread_mutex_lock, or from pthread_cond_timedwait as it retakes the
 * lock: it holds the lock, and what the lock guards may be half updated. It
 * checks the queue (tail - head must fit in the queue), repairs count, which
 * the producer updates last, marks the queue abandoned, calls
 * pthread_mutex_consistent and goes on: it takes what the producer queued
 * and ends as after a finished producer. Nobody signals a condition variable
 * for a dead process, so the consumer waits at most 100ms at a time and
 * tries the lock again.
 *
 *   cc -O2 -o consumer consumer.c -pthread && ./consumer /etc/hostname
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <time.h>

#include "queue.h"

#define WAIT_NS 100000000 /* 100ms */

static void fail(const char *what, int err) {
	fprintf(stderr, "consumer: %s: %s\n", what, strerror(err));
	exit(1);
}

/* recover repairs the queue after its producer died holding the lock, which
 * the caller now holds. */
static void recover(struct queue *q) {
	printf("consumer: the producer died holding the lock (EOWNERDEAD)\n");
	uint32_t queued = q->tail - q->head;
	if (queued > QUEUE_SLOTS) {
		/* Exit holding the lock, inconsistent: the kernel marks it
		 * owner-died again for whoever comes next. */
		fprintf(stderr, "consumer: the queue is corrupt: head %" PRIu32 ", tail %" PRIu32 "\n", q->head, q->tail);
		exit(1);
	}
	if (q->count != queued) {
		printf("consumer: repaired count from %" PRIu32 " to %" PRIu32 "\n", q->count, queued);
		q->count = queued;
	}
	q->done = QUEUE_ABANDONED;
	int err = pthread_mutex_consistent(&q->lock);
	if (err) fail("pthread_mutex_consistent", err);
	printf("consumer: recovered: the mutex is consistent again\n");
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2) { fprintf(stderr, "usage: consumer PATH\n"); return 2; }
	key_t key = ftok(argv[1], QUEUE_PROJ);
	if (key == -1) { perror("ftok"); return 1; }
	int shmid = shmget(key, 0, 0);
	if (shmid == -1) { perror("shmget"); return 1; }
	struct shmid_ds ds;
	if (shmctl(shmid, IPC_STAT, &ds) == -1) { perror("shmctl"); return 1; }
	if (ds.shm_segsz != sizeof(struct queue)) {
		fprintf(stderr, "consumer: the queue is %zu bytes, this program's is %zu (another ABI?)\n", (size_t)ds.shm_segsz, sizeof(struct queue));
		return 1;
	}
	struct queue *q = shmat(shmid, NULL, 0);
	if (q == (void *)-1) { perror("shmat"); return 1; }
	if (__atomic_load_n(&q->magic, __ATOMIC_ACQUIRE) != QUEUE_MAGIC) {
		fprintf(stderr, "consumer: the queue is not initialised (start the consumer once the producer says it is ready)\n");
		return 1;
	}

	uint32_t taken = 0;
	uint64_t sum = 0;
	uint32_t done;
	for (;;) {
		int err = pthread_mutex_lock(&q->lock);
		if (err == EOWNERDEAD) recover(q);
		else if (err) fail("pthread_mutex_lock", err);
		while (q->count == 0 && q->done == QUEUE_PRODUCING) {
			struct timespec limit;
			clock_gettime(CLOCK_MONOTONIC, &limit);
			limit.tv_nsec += WAIT_NS;
			if (limit.tv_nsec >= 1000000000) limit.tv_sec++, limit.tv_nsec -= 1000000000;
			err = pthread_cond_timedwait(&q->not_empty, &q->lock, &limit);
			if (err == EOWNERDEAD) recover(q);
			else if (err && err != ETIMEDOUT) fail("pthread_cond_timedwait", err);
		}
		if (q->count == 0) { /* finished or abandoned, and empty */
			done = q->done;
			pthread_mutex_unlock(&q->lock);
			break;
		}
		uint32_t i = q->head;
		uint64_t v = q->items[i % QUEUE_SLOTS];
		q->head++;
		q->count--;
		pthread_cond_signal(&q->not_full);
		pthread_mutex_unlock(&q->lock);
		taken++;
		sum = queue_sum(sum, v);
		printf("item %" PRIu32 ": %016" PRIx64 "\n", i + 1, v);
	}
	printf("consumer: %" PRIu32 " taken, checksum %016" PRIx64 "; the producer %s\n", taken, sum,
	       done == QUEUE_FINISHED ? "finished" : "died");
	shmdt(q);
	if (shmctl(shmid, IPC_RMID, NULL) == -1) { perror("shmctl"); return 1; }
	return 0;
}
