/*
 * semcount: one of the processes of the contention test. It takes a glibc
 * semaphore used as a lock and a counter in shared memory:
 *
 *   semcount named NAME SEGKEY N   the named semaphore NAME; the counter at
 *                                  offset 64 of the System V segment SEGKEY
 *   semcount shm SEGKEY N          a sem_t at offset 0 and the counter at
 *                                  offset 64 of the segment SEGKEY
 *   semcount fd FD N               the same in the 4096-byte file at the
 *                                  inherited descriptor FD (a memfd)
 *
 * A negative N means -N increments without the semaphore: the control run
 * that shows the test can fail.
 *
 * It prints "ready", waits for a line on stdin (the start gate, so that
 * every process starts at once), then N times: sem_wait, a deliberately
 * slow read-pause-write increment of the counter, sem_post. Then it prints
 * "done". Without the semaphore the increments would be lost; with it the
 * total is exact. The Go helper in main_test.go does the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>

static char *attach(const char *key) {
	int id = shmget((key_t)strtol(key, NULL, 0), 0, 0);
	char *p = id < 0 ? (void *)-1 : shmat(id, NULL, 0);
	if (p == (void *)-1) {
		perror("semcount: shm");
		exit(1);
	}
	return p;
}

int main(int argc, char **argv) {
	sem_t *sem;
	char *mem;
	long n;
	char line[64];
	if (argc == 5 && strcmp(argv[1], "named") == 0) {
		sem = sem_open(argv[2], 0);
		if (sem == SEM_FAILED) {
			perror("semcount: sem_open");
			return 1;
		}
		mem = attach(argv[3]);
		n = strtol(argv[4], NULL, 0);
	} else if (argc == 4 && strcmp(argv[1], "shm") == 0) {
		mem = attach(argv[2]);
		sem = (sem_t *)mem;
		n = strtol(argv[3], NULL, 0);
	} else if (argc == 4 && strcmp(argv[1], "fd") == 0) {
		mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, atoi(argv[2]), 0);
		if (mem == MAP_FAILED) {
			perror("semcount: mmap");
			return 1;
		}
		sem = (sem_t *)mem;
		n = strtol(argv[3], NULL, 0);
	} else {
		fprintf(stderr, "usage: semcount named NAME SEGKEY N | shm SEGKEY N | fd FD N\n");
		return 2;
	}
	volatile long long *counter = (volatile long long *)(mem + 64);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready\n");
	if (!fgets(line, sizeof line, stdin))
		return 1;
	int lock = n >= 0;
	if (!lock)
		n = -n;
	for (long i = 0; i < n; i++) {
		while (lock && sem_wait(sem) != 0)
			if (errno != EINTR) {
				perror("semcount: sem_wait");
				return 1;
			}
		long long v = *counter;
		for (volatile int spin = 0; spin < 1000; spin++)
			;
		*counter = v + 1;
		if (lock && sem_post(sem) != 0) {
			perror("semcount: sem_post");
			return 1;
		}
	}
	printf("done\n");
	return 0;
}
