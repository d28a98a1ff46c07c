/*
 * reader: attaches the segment at key 0x1234 read-only and prints the
 * string at its start.
 */
#include <stdio.h>
#include <sys/shm.h>

int main(void) {
	int id = shmget(0x1234, 0, 0);
	if (id < 0) {
		perror("shmget");
		return 1;
	}
	const char *mem = shmat(id, NULL, SHM_RDONLY);
	if (mem == (void *)-1) {
		perror("shmat");
		return 1;
	}
	printf("%s\n", mem);
	return 0;
}
