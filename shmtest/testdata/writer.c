/*
 * writer: creates the segment at key 0x1234 (1024 bytes, mode 0600),
 * copies "hello from C" into it, prints "ready" and waits for end of file
 * on stdin; then it detaches and removes the segment.
 */
#include <stdio.h>
#include <string.h>
#include <sys/shm.h>

int main(void) {
	int id = shmget(0x1234, 1024, IPC_CREAT | IPC_EXCL | 0600);
	if (id < 0) {
		perror("shmget");
		return 1;
	}
	char *mem = shmat(id, NULL, 0);
	if (mem == (void *)-1) {
		perror("shmat");
		shmctl(id, IPC_RMID, NULL);
		return 1;
	}
	strcpy(mem, "hello from C");
	printf("ready\n");
	fflush(stdout);
	while (getchar() != EOF)
		;
	shmdt(mem);
	shmctl(id, IPC_RMID, NULL);
	return 0;
}
