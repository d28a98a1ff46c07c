/*
 * peer: a C process for the live cross-process tests. It maps a file or
 * attaches a System V segment and then obeys one command per line on stdin,
 * answering each with exactly one line on stdout, so the Go side can order
 * every step by waiting for the answer (no sleeps):
 *
 *   mapfile PATH LEN   mmap PATH read-write MAP_SHARED       -> ok | err ERRNO
 *   shmat KEY          shmget(KEY, 0, 0) + shmat read-write  -> ok SIZE | err ERRNO
 *   write OFF HEX      copy the bytes into the mapping       -> ok
 *   read OFF LEN       the bytes at OFF, in hex              -> HEX
 *   quit               exit 0
 *
 * It never calls msync: what the other side sees is the shared page itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

static unsigned char *mem;
static size_t memlen;

int main(void) {
	char line[8192], arg[4096];
	unsigned long long off, len;
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof line, stdin)) {
		if (sscanf(line, "mapfile %4095s %llu", arg, &len) == 2) {
			int fd = open(arg, O_RDWR);
			void *p = fd < 0 ? MAP_FAILED : mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			if (p == MAP_FAILED) { printf("err %d\n", errno); continue; }
			mem = p; memlen = len;
			printf("ok\n");
		} else if (sscanf(line, "shmat %llx", &off) == 1) {
			struct shmid_ds ds;
			int id = shmget((key_t)off, 0, 0);
			void *p = id < 0 ? (void *)-1 : shmat(id, NULL, 0);
			if (p == (void *)-1 || shmctl(id, IPC_STAT, &ds) < 0) { printf("err %d\n", errno); continue; }
			mem = p; memlen = ds.shm_segsz;
			printf("ok %zu\n", memlen);
		} else if (sscanf(line, "write %llu %4095s", &off, arg) == 2) {
			size_t n = strlen(arg) / 2;
			if (!mem || off + n > memlen) { printf("err %d\n", ERANGE); continue; }
			for (size_t i = 0; i < n; i++) {
				unsigned int b;
				sscanf(arg + 2 * i, "%2x", &b);
				mem[off + i] = (unsigned char)b;
			}
			printf("ok\n");
		} else if (sscanf(line, "read %llu %llu", &off, &len) == 2) {
			if (!mem || off + len > memlen) { printf("err %d\n", ERANGE); continue; }
			for (size_t i = 0; i < len; i++) printf("%02x", mem[off + i]);
			printf("\n");
		} else if (strncmp(line, "quit", 4) == 0) {
			return 0;
		} else {
			printf("err %d\n", EINVAL);
		}
	}
	return 0;
}
