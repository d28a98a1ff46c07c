/*
 * posix: a C peer for the shmtest tests. It makes, through glibc, the
 * POSIX shared memory object /NAME (shm_open, 4096 bytes) and the named
 * semaphore /NAME (sem_open, value 1), which glibc puts in /dev/shm as NAME
 * and sem.NAME, prints "made" and exits 0, leaving both behind.
 *
 *   usage: posix NAME
 *
 * Errors go to stderr (perror) and end it with status 1.
 */
#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc != 2) {
		fprintf(stderr, "usage: posix NAME\n");
		return 2;
	}
	char name[256];
	snprintf(name, sizeof name, "/%s", argv[1]);
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		perror("shm_open");
		return 1;
	}
	if (ftruncate(fd, 4096) != 0) {
		perror("ftruncate");
		return 1;
	}
	close(fd);
	sem_t *sem = sem_open(name, O_CREAT | O_EXCL, 0600, 1);
	if (sem == SEM_FAILED) {
		perror("sem_open");
		return 1;
	}
	sem_close(sem);
	puts("made");
	return 0;
}
