/*
 * queue.h — a bounded queue of 64-bit items in a System V segment keyed by
 * ftok(PATH, 'P'), guarded the way a lot of legacy C IPC code guards shared
 * memory: a pthread mutex and two condition variables placed in the segment
 * itself, all PTHREAD_PROCESS_SHARED, the mutex PTHREAD_MUTEX_ROBUST so that
 * a process killed while holding it does not leave everyone else stuck.
 *
 * One producer (producer.c) creates and initialises the queue and queues N
 * items; one consumer (consumer.c) takes and prints them and removes the
 * segment at the end. head and tail count the items taken and queued (they
 * run freely; slot = counter % QUEUE_SLOTS); count duplicates tail - head,
 * which is what the waits test, and is what a producer killed halfway
 * through an update leaves stale: the consumer that gets EOWNERDEAD checks
 * it against tail - head and repairs it.
 *
 * sizeof(struct queue) is 288 on x86-64 and 268 on i386 (pthread_mutex_t
 * is 40 and 24 bytes, and i386 aligns uint64_t to 4 inside a struct): a
 * 32-bit and a 64-bit process cannot share this queue, and the consumers
 * refuse a segment of the other size.
 */
#ifndef QUEUE_H
#define QUEUE_H

#include <pthread.h>
#include <stdint.h>

#define QUEUE_PROJ 'P'
#define QUEUE_SLOTS 16
#define QUEUE_MAGIC 0x51554531u /* "QUE1": the producer has initialised the queue */

/* done */
#define QUEUE_PRODUCING 0
#define QUEUE_FINISHED 1 /* the producer queued all its items and left */
#define QUEUE_ABANDONED 2 /* the producer died; set by the consumer that recovered */

struct queue {
	pthread_mutex_t lock;      /* robust, process-shared */
	pthread_cond_t not_empty;  /* process-shared, CLOCK_MONOTONIC */
	pthread_cond_t not_full;   /* process-shared, CLOCK_MONOTONIC */
	uint32_t magic;            /* QUEUE_MAGIC, stored last by the producer */
	uint32_t done;             /* QUEUE_PRODUCING, QUEUE_FINISHED or QUEUE_ABANDONED */
	uint32_t head;             /* items taken */
	uint32_t tail;             /* items queued */
	uint32_t count;            /* tail - head */
	uint64_t items[QUEUE_SLOTS];
};

/* queue_item is the value of the i-th item (from 1) the producer queues. */
static inline uint64_t queue_item(uint32_t i) { return (uint64_t)i * 0x9e3779b97f4a7c15u; }

/* queue_sum folds an item into a running checksum. */
static inline uint64_t queue_sum(uint64_t sum, uint64_t item) { return (sum << 5 | sum >> 59) ^ item; }

#endif
