/*
 * mutexpeer: a C process for the cross-language mutex tests. It gets hold
 * of memory holding a pthread_mutex_t (and an int counter 64 bytes after
 * it) and then obeys one command per line on stdin, answering each with
 * exactly one line on stdout, so the Go side orders every step by the
 * answer (no sleeps). A command that blocks (lock, timedlock) answers when
 * it returns. The test binary's Go helper (PTHREAD_HELPER=peer) speaks the
 * same protocol, so a test drives C and Go peers alike.
 *
 *   size                     sizeof(pthread_mutex_t)                 -> ok SIZE
 *   shm KEY OFF              shmget(KEY, 0, 0), shmat; the mutex at OFF -> ok ADDR | err ERRNO
 *   fd FD LEN OFF            mmap the inherited FD MAP_SHARED; the mutex at OFF
 *                                                                    -> ok ADDR | err ERRNO
 *   init TYPE ROBUST PSHARED pthread_mutex_init with a mutexattr of TYPE (default,
 *                            normal, errorcheck, recursive, adaptive, inherit,
 *                            protect), robust 0/1, pshared 0/1      -> ok | err ERRNO
 *   lock | trylock | unlock | consistent
 *                            pthread_mutex_lock, ...                 -> ok | err ERRNO
 *   timedlock MS             pthread_mutex_timedlock until now + MS ms (CLOCK_REALTIME)
 *                                                                    -> ok | err ERRNO
 *   dump                     the bytes of the pthread_mutex_t in hex -> ok HEX
 *   tid                      gettid()                                -> ok TID
 *   count N                  N times: lock, counter++ (a plain read and write),
 *                            unlock                                  -> ok | err ERRNO
 *   nolock N                 N times counter++ without the mutex     -> ok
 *   quit                     exit 0
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t *mtx;
static volatile int *counter;

static void answer(int r) {
	if (r == 0)
		printf("ok\n");
	else
		printf("err %d\n", r);
}

static void got(char *p) {
	if (p == NULL) {
		printf("err %d\n", errno);
		return;
	}
	mtx = (pthread_mutex_t *)p;
	counter = (volatile int *)(p + 64);
	printf("ok %p\n", (void *)p);
}

static int init(const char *type, int robust, int pshared) {
	pthread_mutexattr_t a;
	int r = pthread_mutexattr_init(&a);
	if (r == 0 && strcmp(type, "normal") == 0)
		r = pthread_mutexattr_settype(&a, PTHREAD_MUTEX_NORMAL);
	else if (r == 0 && strcmp(type, "errorcheck") == 0)
		r = pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
	else if (r == 0 && strcmp(type, "recursive") == 0)
		r = pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	else if (r == 0 && strcmp(type, "adaptive") == 0)
		r = pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
	else if (r == 0 && strcmp(type, "inherit") == 0)
		r = pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT);
	else if (r == 0 && strcmp(type, "protect") == 0)
		r = pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_PROTECT);
	else if (r == 0 && strcmp(type, "default") != 0)
		r = EINVAL;
	if (r == 0 && robust)
		r = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	if (r == 0)
		r = pthread_mutexattr_setpshared(&a, pshared ? PTHREAD_PROCESS_SHARED : PTHREAD_PROCESS_PRIVATE);
	if (r == 0)
		r = pthread_mutex_init(mtx, &a);
	return r;
}

int main(void) {
	char line[1024], arg[64];
	unsigned long long a, b, c;
	int x, y;
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof line, stdin)) {
		if (strncmp(line, "size", 4) == 0) {
			printf("ok %zu\n", sizeof(pthread_mutex_t));
		} else if (sscanf(line, "shm %llx %llu", &a, &b) == 2) {
			int id = shmget((key_t)a, 0, 0);
			char *p = id < 0 ? (void *)-1 : shmat(id, NULL, 0);
			got(p == (void *)-1 ? NULL : p + b);
		} else if (sscanf(line, "fd %llu %llu %llu", &a, &b, &c) == 3) {
			char *p = mmap(NULL, b, PROT_READ | PROT_WRITE, MAP_SHARED, (int)a, 0);
			got(p == MAP_FAILED ? NULL : p + c);
		} else if (sscanf(line, "init %63s %d %d", arg, &x, &y) == 3) {
			answer(init(arg, x, y));
		} else if (strncmp(line, "lock", 4) == 0) {
			answer(pthread_mutex_lock(mtx));
		} else if (strncmp(line, "trylock", 7) == 0) {
			answer(pthread_mutex_trylock(mtx));
		} else if (strncmp(line, "unlock", 6) == 0) {
			answer(pthread_mutex_unlock(mtx));
		} else if (strncmp(line, "consistent", 10) == 0) {
			answer(pthread_mutex_consistent(mtx));
		} else if (sscanf(line, "timedlock %llu", &a) == 1) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += a / 1000;
			ts.tv_nsec += (long)(a % 1000) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			answer(pthread_mutex_timedlock(mtx, &ts));
		} else if (strncmp(line, "dump", 4) == 0) {
			printf("ok ");
			for (size_t i = 0; i < sizeof(pthread_mutex_t); i++)
				printf("%02x", ((unsigned char *)mtx)[i]);
			printf("\n");
		} else if (strncmp(line, "tid", 3) == 0) {
			printf("ok %d\n", (int)gettid());
		} else if (sscanf(line, "count %llu", &a) == 1) {
			int r = 0;
			for (unsigned long long i = 0; i < a && r == 0; i++) {
				if ((r = pthread_mutex_lock(mtx)) != 0)
					break;
				int v = *counter;
				*counter = v + 1;
				r = pthread_mutex_unlock(mtx);
			}
			answer(r);
		} else if (sscanf(line, "nolock %llu", &a) == 1) {
			for (unsigned long long i = 0; i < a; i++) {
				int v = *counter;
				*counter = v + 1;
			}
			answer(0);
		} else if (strncmp(line, "quit", 4) == 0) {
			return 0;
		} else {
			printf("err %d\n", EINVAL);
		}
	}
	return 0;
}
