/*
 * writer.c — the article's writer with a System V semaphore instead of the
 * 30-second sleep.
 *
 * It opens (creating if need be) the segment at key 0x1234 — 1024 bytes,
 * 0600, as in the article — and a set of two semaphores at the same key:
 * FULL (a message is in the segment) and ACK (the reader has taken it).
 * For each argument (by default the article's "shared memory here!") it
 * copies the text into the segment as a NUL-terminated string, posts FULL
 * and waits on ACK; finally it writes an empty message, which ends the
 * stream, and detaches. The reader removes the segment and the semaphores.
 *
 * Either program may start first, and nothing initialises the semaphores:
 * Linux creates them at 0, which is the state this protocol starts from,
 * so there is no window in which one side sees the other's half-made set.
 * (POSIX leaves the initial value unspecified; Linux documents it as 0.)
 * A wait gives up after 30 seconds, the article's hold time.
 *
 *   cc -O2 -o writer writer.c && ./writer [MESSAGE...]
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

/* op adds delta to semaphore num, waiting at most 30 s while it would go
 * below zero. */
static int op(int semid, unsigned short num, short delta) {
	struct sembuf b = {num, delta, 0};
	struct timespec limit = {30, 0};
	return semtimedop(semid, &b, 1, &limit);
}

int main(int argc, char **argv) {
	char *article[] = {"shared memory here!"};
	char **msgs = argc > 1 ? argv + 1 : article;
	int n = argc > 1 ? argc - 1 : 1;
	for (int i = 0; i < n; i++)
		if (msgs[i][0] == '\0') { fprintf(stderr, "writer: an empty message would end the stream\n"); return 2; }

	int shmid = shmget(KEY, SIZE, IPC_CREAT | 0600);
	if (shmid == -1) { perror("shmget error!"); return 1; }
	int semid = semget(KEY, 2, IPC_CREAT | 0600);
	if (semid == -1) { perror("semget error!"); return 1; }
	char *shmp = shmat(shmid, NULL, 0);
	if (shmp == (void *)-1) { perror("shmat error!"); return 1; }

	for (int i = 0; i <= n; i++) {
		/* The last message is empty: the end of the stream. */
		snprintf(shmp, SIZE, "%s", i < n ? msgs[i] : "");
		if (op(semid, FULL, 1) == -1) { perror("semop error!"); return 1; }
		if (i < n && op(semid, ACK, -1) == -1) { perror("semop error!"); return 1; }
	}
	shmdt(shmp);
	return 0;
}
