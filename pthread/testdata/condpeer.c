/*
 * condpeer: a C process for the condition-variable tests, linked with
 * glibc as the reference. It attaches a System V segment laid out as
 *
 *   offset 0     pthread_mutex_t (process-shared, PTHREAD_MUTEX_NORMAL)
 *   offset 64    pthread_cond_t number 0
 *   offset 128   pthread_cond_t number 1
 *   offset 192   bounded buffer: uint64 put, uint64 get, uint64 items[CAP]
 *
 * and obeys one command per line on stdin, answering each with exactly one
 * line on stdout, so the Go side orders every step by the answer. A
 * command that blocks answers when it returns. ADDR is an address in this
 * process, as /proc/PID/syscall shows it while the peer sleeps.
 *
 *   size                 sizeof/_Alignof pthread_cond_t, pthread_mutex_t
 *                                          -> ok CSIZE CALIGN MSIZE MALIGN
 *   shm KEY              shmget(KEY, 0, 0) and shmat -> ok ADDR | err ERRNO
 *   mutexinit            pthread_mutex_init, process-shared  -> ok | err E
 *   condinit N CLOCK     pthread_cond_init of cond N, process-shared,
 *                        clock 0 realtime (default), 1 monotonic, 2 a
 *                        process-private one (default attr) -> ok | err E
 *   lock / unlock        pthread_mutex_lock / unlock     -> ok | err E
 *   wait N               pthread_cond_wait(cond N) (mutex held)  -> ok | err E
 *   waitunlock N         wait N, then pthread_mutex_unlock, so that several
 *                        waiters woken at once answer in any order -> ok | err E
 *   timedwait N MS       pthread_cond_timedwait(cond N) until now + MS ms on
 *                        the cond's clock -> ok US | err E US (US: the
 *                        microseconds it took, on that clock)
 *   signal N / broadcast N                                -> ok | err E
 *   dump N               the 48 bytes of cond N  -> ok HEX
 *   produce ID COUNT CAP MS   bounded buffer: put COUNT items ID<<40|i,
 *                        each pthread_cond_timedwait bounded by MS ms
 *                        -> ok SUM | err E
 *   consume COUNT CAP MS take COUNT items -> ok COUNT SUM HASH | err E
 *   quit                 exit 0
 *
 * SUM is the sum of the items and HASH the sum of splitmix64(item), both
 * mod 2^64, as the Go side computes them.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
#include <time.h>

static char *base;
static pthread_mutex_t *mtx;

static pthread_cond_t *cond(int n) { return (pthread_cond_t *)(base + 64 + 64 * n); }

static void answer(int r) {
	if (r == 0)
		printf("ok\n");
	else
		printf("err %d\n", r);
}

static clockid_t cond_clock(pthread_cond_t *c) {
	/* __wrefs bit 1: CLOCK_MONOTONIC (pthread_cond_wait.c). */
	return (c->__data.__wrefs & 2) ? CLOCK_MONOTONIC : CLOCK_REALTIME;
}

static struct timespec after(clockid_t clk, long long ms) {
	struct timespec ts;
	clock_gettime(clk, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

static long long since_us(clockid_t clk, struct timespec start) {
	struct timespec now;
	clock_gettime(clk, &now);
	return (now.tv_sec - start.tv_sec) * 1000000LL + (now.tv_nsec - start.tv_nsec) / 1000;
}

static uint64_t splitmix(uint64_t x) {
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* The bounded buffer: cond 0 is "not empty", cond 1 "not full". */
struct buffer {
	volatile uint64_t put, get;
	volatile uint64_t items[];
};

static int produce(uint64_t id, uint64_t count, uint64_t cap, long long ms, uint64_t *sum) {
	struct buffer *b = (struct buffer *)(base + 192);
	for (uint64_t i = 0; i < count; i++) {
		uint64_t v = id << 40 | i;
		int r = pthread_mutex_lock(mtx);
		if (r)
			return r;
		while (b->put - b->get == cap) {
			struct timespec ts = after(cond_clock(cond(1)), ms);
			r = pthread_cond_timedwait(cond(1), mtx, &ts);
			if (r) {
				pthread_mutex_unlock(mtx);
				return r;
			}
		}
		b->items[b->put % cap] = v;
		b->put++;
		pthread_cond_signal(cond(0));
		pthread_mutex_unlock(mtx);
		*sum += v;
	}
	return 0;
}

static int consume(uint64_t count, uint64_t cap, long long ms, uint64_t *sum, uint64_t *hash) {
	struct buffer *b = (struct buffer *)(base + 192);
	for (uint64_t i = 0; i < count; i++) {
		int r = pthread_mutex_lock(mtx);
		if (r)
			return r;
		while (b->put == b->get) {
			struct timespec ts = after(cond_clock(cond(0)), ms);
			r = pthread_cond_timedwait(cond(0), mtx, &ts);
			if (r) {
				pthread_mutex_unlock(mtx);
				return r;
			}
		}
		uint64_t v = b->items[b->get % cap];
		b->get++;
		pthread_cond_signal(cond(1));
		pthread_mutex_unlock(mtx);
		*sum += v;
		*hash += splitmix(v);
	}
	return 0;
}

int main(void) {
	char line[256];
	unsigned long long a, b, c;
	int n, k;
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof line, stdin)) {
		if (strncmp(line, "size", 4) == 0) {
			printf("ok %zu %zu %zu %zu\n", sizeof(pthread_cond_t), _Alignof(pthread_cond_t),
			       sizeof(pthread_mutex_t), _Alignof(pthread_mutex_t));
		} else if (sscanf(line, "shm %llx", &a) == 1) {
			int id = shmget((key_t)a, 0, 0);
			char *p = id < 0 ? (void *)-1 : shmat(id, NULL, 0);
			if (p == (void *)-1) {
				printf("err %d\n", errno);
				continue;
			}
			base = p;
			mtx = (pthread_mutex_t *)p;
			printf("ok %p\n", (void *)p);
		} else if (strncmp(line, "mutexinit", 9) == 0) {
			pthread_mutexattr_t ma;
			pthread_mutexattr_init(&ma);
			pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
			answer(pthread_mutex_init(mtx, &ma));
		} else if (sscanf(line, "condinit %d %d", &n, &k) == 2) {
			pthread_condattr_t ca;
			pthread_condattr_init(&ca);
			if (k != 2)
				pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
			if (k == 1)
				pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
			answer(pthread_cond_init(cond(n), &ca));
		} else if (strncmp(line, "lock", 4) == 0) {
			answer(pthread_mutex_lock(mtx));
		} else if (strncmp(line, "unlock", 6) == 0) {
			answer(pthread_mutex_unlock(mtx));
		} else if (sscanf(line, "waitunlock %d", &n) == 1) {
			int r = pthread_cond_wait(cond(n), mtx);
			if (r == 0)
				r = pthread_mutex_unlock(mtx);
			answer(r);
		} else if (sscanf(line, "wait %d", &n) == 1) {
			answer(pthread_cond_wait(cond(n), mtx));
		} else if (sscanf(line, "timedwait %d %llu", &n, &a) == 2) {
			clockid_t clk = cond_clock(cond(n));
			struct timespec start, ts = after(clk, (long long)a);
			clock_gettime(clk, &start);
			int r = pthread_cond_timedwait(cond(n), mtx, &ts);
			long long us = since_us(clk, start);
			if (r == 0)
				printf("ok %lld\n", us);
			else
				printf("err %d %lld\n", r, us);
		} else if (sscanf(line, "signal %d", &n) == 1) {
			answer(pthread_cond_signal(cond(n)));
		} else if (sscanf(line, "broadcast %d", &n) == 1) {
			answer(pthread_cond_broadcast(cond(n)));
		} else if (sscanf(line, "dump %d", &n) == 1) {
			unsigned char *p = (unsigned char *)cond(n);
			printf("ok ");
			for (size_t i = 0; i < sizeof(pthread_cond_t); i++)
				printf("%02x", p[i]);
			printf("\n");
		} else if (sscanf(line, "produce %llu %llu %llu %d", &a, &b, &c, &k) == 4) {
			uint64_t sum = 0;
			int r = produce(a, b, c, k, &sum);
			if (r)
				printf("err %d\n", r);
			else
				printf("ok %" PRIu64 "\n", sum);
		} else if (sscanf(line, "consume %llu %llu %d", &a, &b, &k) == 3) {
			uint64_t sum = 0, hash = 0;
			int r = consume(a, b, k, &sum, &hash);
			if (r)
				printf("err %d\n", r);
			else
				printf("ok %llu %" PRIu64 " %" PRIu64 "\n", a, sum, hash);
		} else if (strncmp(line, "quit", 4) == 0) {
			return 0;
		} else {
			printf("err %d\n", EINVAL);
		}
	}
	return 0;
}
