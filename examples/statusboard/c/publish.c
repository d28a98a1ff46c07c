/*
 * publish.c — publishes a status board: `publish PATH NAME N` opens the
 * board for ftok(PATH, 'B'), creating the segment (sizeof(struct board),
 * 0600) and its semaphore (value 1) if need be, and under the semaphore
 * (SEM_UNDO, so a killed publisher releases it) bumps seq and writes NAME
 * and N records (at most 8) computed from their index. It prints what it
 * published and detaches; the board stays for the printers.
 *
 *   cc -O2 -o publish publish.c && ./publish /etc/hostname rack-7 3
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>

#include "board.h"

static int lock(int semid, short delta) {
	struct sembuf b = {0, delta, SEM_UNDO};
	return semop(semid, &b, 1);
}

int main(int argc, char **argv) {
	if (argc != 4) { fprintf(stderr, "usage: publish PATH NAME N\n"); return 2; }
	int n = atoi(argv[3]);
	if (n < 0 || n > BOARD_RECORDS) { fprintf(stderr, "publish: N must be 0..%d\n", BOARD_RECORDS); return 2; }

	key_t key = ftok(argv[1], BOARD_PROJ);
	if (key == -1) { perror("ftok"); return 1; }
	/* The creator sets the semaphore to 1 (free). A printer that comes
	 * between semget and SETVAL waits on 0 until it is set. */
	int semid = semget(key, 1, IPC_CREAT | IPC_EXCL | 0600);
	if (semid != -1) {
		if (semctl(semid, 0, SETVAL, 1) == -1) { perror("semctl"); return 1; }
	} else if (errno == EEXIST) {
		semid = semget(key, 1, 0);
	}
	if (semid == -1) { perror("semget"); return 1; }
	int shmid = shmget(key, sizeof(struct board), IPC_CREAT | 0600);
	if (shmid == -1) { perror("shmget"); return 1; }
	struct board *b = shmat(shmid, NULL, 0);
	if (b == (void *)-1) { perror("shmat"); return 1; }

	if (lock(semid, -1) == -1) { perror("semop"); return 1; }
	b->seq++;
	b->load = n / 4.0;
	memset(b->name, 0, sizeof b->name);
	strncpy(b->name, argv[2], sizeof b->name - 1);
	b->nrec = (uint16_t)n;
	memset(b->recs, 0, sizeof b->recs);
	for (int i = 0; i < n; i++) {
		struct record *r = &b->recs[i];
		r->id = 1000 + i;
		r->temp = (int16_t)(-25 + 17 * i);
		r->state = (uint8_t)(i % 3);
		snprintf(r->tag, sizeof r->tag, "t%d", i * 11);
		r->reading = i * 1.25 - 3.5;
	}
	b->updated = b->seq * 60;
	long seq = b->seq;
	if (lock(semid, 1) == -1) { perror("semop"); return 1; }

	printf("published %s: seq %ld, %d records, %zu bytes\n", b->name, seq, n, sizeof *b);
	shmdt(b);
	return 0;
}
