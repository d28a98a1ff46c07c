/*
 * sempeer: a C process for the cross-language semaphore tests. It gets
 * hold of one glibc semaphore and then obeys one command per line on stdin,
 * answering each with exactly one line on stdout, so the Go side orders
 * every step by the answer (no sleeps). A command that blocks (wait,
 * timedwait) answers when it returns; ADDR is the address of the sem_t
 * (its futex word), as /proc/PID/syscall shows it while the peer sleeps.
 *
 *   size                    sizeof(sem_t)                          -> ok SIZE
 *   open NAME               sem_open(NAME, 0)                      -> ok ADDR | err ERRNO
 *   create NAME MODE VALUE  sem_open(NAME, O_CREAT|O_EXCL, MODE, VALUE) (MODE octal)
 *                                                                  -> ok ADDR | err ERRNO
 *   shm KEY OFF             shmget(KEY, 0, 0), shmat; the sem_t at OFF -> ok ADDR | err ERRNO
 *   fd FD LEN OFF           mmap the inherited FD MAP_SHARED; the sem_t at OFF
 *                                                                  -> ok ADDR | err ERRNO
 *   init VALUE              sem_init(sem, 1, VALUE)                -> ok | err ERRNO
 *   post                    sem_post                               -> ok | err ERRNO
 *   wait                    sem_wait                               -> ok | err ERRNO
 *   trywait                 sem_trywait                            -> ok | err ERRNO
 *   timedwait MS            sem_timedwait until now + MS ms (CLOCK_REALTIME)
 *                                                                  -> ok | err ERRNO
 *   value                   sem_getvalue                           -> ok VALUE | err ERRNO
 *   close                   sem_close (named)                      -> ok | err ERRNO
 *   unlink NAME             sem_unlink                             -> ok | err ERRNO
 *   quit                    exit 0
 */
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <time.h>

static sem_t *sem;

static void answer(int r) {
	if (r == 0)
		printf("ok\n");
	else
		printf("err %d\n", errno);
}

static void got(void *p) {
	if (p == NULL) {
		printf("err %d\n", errno);
		return;
	}
	sem = p;
	printf("ok %p\n", p);
}

int main(void) {
	char line[1024], arg[512];
	unsigned long long a, b, c;
	unsigned int mode, value;
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof line, stdin)) {
		if (strncmp(line, "size", 4) == 0) {
			printf("ok %zu\n", sizeof(sem_t));
		} else if (sscanf(line, "open %511s", arg) == 1) {
			sem_t *s = sem_open(arg, 0);
			got(s == SEM_FAILED ? NULL : s);
		} else if (sscanf(line, "create %511s %o %u", arg, &mode, &value) == 3) {
			sem_t *s = sem_open(arg, O_CREAT | O_EXCL, (mode_t)mode, value);
			got(s == SEM_FAILED ? NULL : s);
		} else if (sscanf(line, "shm %llx %llu", &a, &b) == 2) {
			int id = shmget((key_t)a, 0, 0);
			char *p = id < 0 ? (void *)-1 : shmat(id, NULL, 0);
			got(p == (void *)-1 ? NULL : p + b);
		} else if (sscanf(line, "fd %llu %llu %llu", &a, &b, &c) == 3) {
			char *p = mmap(NULL, b, PROT_READ | PROT_WRITE, MAP_SHARED, (int)a, 0);
			got(p == MAP_FAILED ? NULL : p + c);
		} else if (sscanf(line, "init %u", &value) == 1) {
			answer(sem_init(sem, 1, value));
		} else if (strncmp(line, "post", 4) == 0) {
			answer(sem_post(sem));
		} else if (strncmp(line, "wait", 4) == 0) {
			answer(sem_wait(sem));
		} else if (strncmp(line, "trywait", 7) == 0) {
			answer(sem_trywait(sem));
		} else if (sscanf(line, "timedwait %llu", &a) == 1) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += a / 1000;
			ts.tv_nsec += (long)(a % 1000) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			answer(sem_timedwait(sem, &ts));
		} else if (strncmp(line, "value", 5) == 0) {
			int v;
			if (sem_getvalue(sem, &v) == 0)
				printf("ok %d\n", v);
			else
				printf("err %d\n", errno);
		} else if (strncmp(line, "close", 5) == 0) {
			answer(sem_close(sem));
		} else if (sscanf(line, "unlink %511s", arg) == 1) {
			answer(sem_unlink(arg));
		} else if (strncmp(line, "quit", 4) == 0) {
			return 0;
		} else {
			printf("err %d\n", EINVAL);
		}
	}
	return 0;
}
