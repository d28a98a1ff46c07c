/*
 * perop: the C side of the per-operation benchmarks. It runs one operation
 * ITERS times and prints the mean nanoseconds per operation (or, for copy,
 * per 64 MiB copy) on stdout. The Go benchmarks in perop_test.go run it and
 * report its figure next to their own, in the same `go test -bench` run.
 *
 *   perop shm_cycle ITERS          shmget(IPC_PRIVATE)+shmat+shmdt+IPC_RMID
 *   perop shm_attach ITERS         shmat+shmdt of an existing segment
 *   perop mmap_4k ITERS FILE       mmap+munmap of a 4 KiB file
 *   perop ftok ITERS FILE          ftok
 *   perop memcpy_64m ITERS         memcpy of 64 MiB into a segment
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void die(const char *what) { perror(what); exit(1); }

int main(int argc, char **argv) {
	if (argc < 3) { fprintf(stderr, "usage: perop OP ITERS [FILE]\n"); return 2; }
	const char *op = argv[1];
	long iters = atol(argv[2]);
	double start, end;
	if (strcmp(op, "shm_cycle") == 0) {
		start = now_ns();
		for (long i = 0; i < iters; i++) {
			int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
			if (id < 0) die("shmget");
			void *p = shmat(id, NULL, 0);
			if (p == (void *)-1) die("shmat");
			if (shmdt(p) < 0) die("shmdt");
			if (shmctl(id, IPC_RMID, NULL) < 0) die("shmctl");
		}
		end = now_ns();
	} else if (strcmp(op, "shm_attach") == 0) {
		int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
		if (id < 0) die("shmget");
		start = now_ns();
		for (long i = 0; i < iters; i++) {
			void *p = shmat(id, NULL, 0);
			if (p == (void *)-1) die("shmat");
			if (shmdt(p) < 0) die("shmdt");
		}
		end = now_ns();
		shmctl(id, IPC_RMID, NULL);
	} else if (strcmp(op, "mmap_4k") == 0 && argc == 4) {
		int fd = open(argv[3], O_RDWR);
		if (fd < 0) die("open");
		start = now_ns();
		for (long i = 0; i < iters; i++) {
			void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			if (p == MAP_FAILED) die("mmap");
			if (munmap(p, 4096) < 0) die("munmap");
		}
		end = now_ns();
		close(fd);
	} else if (strcmp(op, "ftok") == 0 && argc == 4) {
		start = now_ns();
		for (long i = 0; i < iters; i++)
			if (ftok(argv[3], 'A') == -1) die("ftok");
		end = now_ns();
	} else if (strcmp(op, "memcpy_64m") == 0) {
		size_t n = 64 << 20;
		int id = shmget(IPC_PRIVATE, n, IPC_CREAT | 0600);
		if (id < 0) die("shmget");
		char *p = shmat(id, NULL, 0);
		if (p == (void *)-1) die("shmat");
		shmctl(id, IPC_RMID, NULL);
		char *src = malloc(n);
		memset(src, 0xa5, n);
		memcpy(p, src, n); /* fault the pages in first, as the Go side does */
		start = now_ns();
		for (long i = 0; i < iters; i++) {
			src[i % n] = (char)i;
			memcpy(p, src, n);
		}
		end = now_ns();
		if (p[0] == 1) printf(" "); /* keep the copies */
	} else {
		fprintf(stderr, "perop: unknown op %s\n", op);
		return 2;
	}
	printf("%.2f\n", (end - start) / iters);
	return 0;
}
