/*
 * attach: a C peer for the shmtest tests. It creates (if need be) and
 * attaches the System V segment at KEY, prints "ready SHMID", and then
 * obeys one command per line on stdin, answering each with one line:
 *
 *   usage: attach KEY SIZE       KEY in hex (0x1234), SIZE in bytes
 *
 *   write TEXT   copy TEXT and a NUL to the start of the segment -> ok
 *   detach       shmdt                                           -> detached
 *   remove       shmctl IPC_RMID                                 -> removed
 *   exit N       exit with status N
 *
 * At end of file on stdin it exits 0, leaving the segment in place. Errors
 * go to stderr (perror) and end it with status 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>

int main(int argc, char **argv) {
	if (argc != 3) {
		fprintf(stderr, "usage: attach KEY SIZE\n");
		return 2;
	}
	key_t key = (key_t)strtoul(argv[1], NULL, 16);
	size_t size = strtoul(argv[2], NULL, 10);
	int id = shmget(key, size, IPC_CREAT | 0600);
	if (id < 0) {
		perror("shmget");
		return 1;
	}
	char *mem = shmat(id, NULL, 0);
	if (mem == (void *)-1) {
		perror("shmat");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d\n", id);
	char line[4096];
	while (fgets(line, sizeof line, stdin)) {
		line[strcspn(line, "\n")] = 0;
		if (strncmp(line, "write ", 6) == 0) {
			size_t n = strlen(line + 6) + 1;
			if (n > size) n = size;
			memcpy(mem, line + 6, n);
			printf("ok\n");
		} else if (strcmp(line, "detach") == 0) {
			if (shmdt(mem) < 0) { perror("shmdt"); return 1; }
			printf("detached\n");
		} else if (strcmp(line, "remove") == 0) {
			if (shmctl(id, IPC_RMID, NULL) < 0) { perror("shmctl"); return 1; }
			printf("removed\n");
		} else if (strncmp(line, "exit ", 5) == 0) {
			exit(atoi(line + 5));
		} else {
			fprintf(stderr, "attach: unknown command %s\n", line);
			return 2;
		}
	}
	return 0;
}
