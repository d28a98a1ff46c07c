/*
 * reader.c — the article's reader with a System V semaphore: it waits for
 * each message instead of hoping the writer came first.
 *
 * It opens (creating if need be) the segment at key 0x1234 and the set of
 * two semaphores at the same key (see writer.c), attaches the segment
 * read-only, and then, for each message: waits on FULL, prints the
 * NUL-terminated text on a line of its own, posts ACK. An empty message
 * ends the stream: the reader detaches and removes the segment and the
 * semaphores, leaving nothing behind. A wait gives up after 30 seconds.
 *
 *   cc -O2 -o reader reader.c && ./reader
 */
#define _GNU_SOURCE /* semtimedop */
#include <stdio.h>
#include <string.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <time.h>

#define KEY 0x1234
#define SIZE 1024
enum { FULL, ACK }; /* the semaphores of the set */

static int op(int semid, unsigned short num, short delta) {
	struct sembuf b = {num, delta, 0};
	struct timespec limit = {30, 0};
	return semtimedop(semid, &b, 1, &limit);
}

int main(void) {
	int shmid = shmget(KEY, SIZE, IPC_CREAT | 0600);
	if (shmid == -1) { perror("shmget error!"); return 1; }
	int semid = semget(KEY, 2, IPC_CREAT | 0600);
	if (semid == -1) { perror("semget error!"); return 1; }
	const char *shmp = shmat(shmid, NULL, SHM_RDONLY);
	if (shmp == (void *)-1) { perror("shmat error!"); return 1; }

	for (;;) {
		if (op(semid, FULL, -1) == -1) { perror("semop error!"); return 1; }
		if (shmp[0] == '\0') break;
		printf("%.*s\n", SIZE, shmp); /* bounded: never past the segment */
		fflush(stdout);
		if (op(semid, ACK, 1) == -1) { perror("semop error!"); return 1; }
	}
	shmdt(shmp);
	if (shmctl(shmid, IPC_RMID, NULL) == -1) { perror("shmctl error!"); return 1; }
	if (semctl(semid, 0, IPC_RMID) == -1) { perror("semctl error!"); return 1; }
	return 0;
}
