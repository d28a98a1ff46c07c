/*
 * mutex: the C side of the pthread mutex benchmarks (mutex_test.go), with
 * glibc's pthread_mutex_lock and pthread_mutex_unlock on process-shared
 * mutexes (PTHREAD_PROCESS_SHARED, type PTHREAD_MUTEX_NORMAL, robust or
 * not) in shared memory. KIND is normal or robust.
 *
 *   mutex uncontended ITERS KIND
 *       One thread locks and unlocks a mutex in a MAP_SHARED anonymous
 *       mapping ITERS times (after 1000 untimed rounds) and prints the mean
 *       nanoseconds per lock+unlock.
 *
 *   mutex init KIND ID
 *       pthread_mutex_init of the hand-off mutex at the start of System V
 *       segment ID (the benchmark creates and removes the segment).
 *
 *   mutex handoff ID ITERS
 *       One of the two processes of a hand-off: announce itself in the
 *       segment's ready word and wait for the other, then ITERS rounds of
 *       lock, increment the shared counter, unlock; print the nanoseconds
 *       from passing the barrier to the end of its loop. The Go end
 *       (internal/mutexbench) does the same with package pthread.
 *
 * The hand-off segment: the pthread_mutex_t at 0, the counter (uint64_t,
 * incremented under the mutex with a plain ++) at 64, the ready word
 * (int32_t, atomic) at 128; mutex_test.go and internal/mutexbench use the
 * same offsets.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <time.h>

enum { OFF_COUNTER = 64, OFF_READY = 128 };

static double now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void die(const char *what) { perror(what); exit(1); }

static void check(int err, const char *what) {
	if (err) {
		errno = err;
		die(what);
	}
}

static void init_mutex(pthread_mutex_t *m, const char *kind) {
	int robust = strcmp(kind, "robust") == 0;
	if (!robust && strcmp(kind, "normal") != 0) {
		fprintf(stderr, "mutex: kind %s: want normal or robust\n", kind);
		exit(2);
	}
	pthread_mutexattr_t a;
	check(pthread_mutexattr_init(&a), "mutex: pthread_mutexattr_init");
	check(pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED), "mutex: pthread_mutexattr_setpshared");
	check(pthread_mutexattr_settype(&a, PTHREAD_MUTEX_NORMAL), "mutex: pthread_mutexattr_settype");
	if (robust) check(pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST), "mutex: pthread_mutexattr_setrobust");
	check(pthread_mutex_init(m, &a), "mutex: pthread_mutex_init");
	pthread_mutexattr_destroy(&a);
}

static char *attach(const char *id) {
	char *p = shmat(atoi(id), NULL, 0);
	if (p == (void *)-1) die("mutex: shmat");
	return p;
}

int main(int argc, char **argv) {
	if (argc == 4 && strcmp(argv[1], "uncontended") == 0) {
		long iters = atol(argv[2]);
		if (iters < 1) iters = 1;
		pthread_mutex_t *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED) die("mutex: mmap");
		init_mutex(m, argv[3]);
		double start = 0;
		for (long i = -1000; i < iters; i++) {
			if (i == 0) start = now_ns();
			check(pthread_mutex_lock(m), "mutex: pthread_mutex_lock");
			check(pthread_mutex_unlock(m), "mutex: pthread_mutex_unlock");
		}
		printf("%.2f\n", (now_ns() - start) / iters);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "init") == 0) {
		init_mutex((pthread_mutex_t *)attach(argv[3]), argv[2]);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "handoff") == 0) {
		char *p = attach(argv[2]);
		long iters = atol(argv[3]);
		pthread_mutex_t *m = (pthread_mutex_t *)p;
		uint64_t *counter = (uint64_t *)(p + OFF_COUNTER);
		int32_t *ready = (int32_t *)(p + OFF_READY);
		__atomic_add_fetch(ready, 1, __ATOMIC_SEQ_CST);
		while (__atomic_load_n(ready, __ATOMIC_SEQ_CST) < 2) sched_yield();
		double start = now_ns();
		for (long i = 0; i < iters; i++) {
			check(pthread_mutex_lock(m), "mutex: pthread_mutex_lock");
			(*counter)++;
			check(pthread_mutex_unlock(m), "mutex: pthread_mutex_unlock");
		}
		printf("%.0f\n", now_ns() - start);
		return 0;
	}
	fprintf(stderr, "usage: mutex uncontended ITERS normal|robust | mutex init normal|robust ID | mutex handoff ID ITERS\n");
	return 2;
}
