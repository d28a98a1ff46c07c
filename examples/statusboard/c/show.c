/*
 * show.c — prints a status board: `show [-r] PATH` finds the board for
 * ftok(PATH, 'B') (it never creates one), attaches it read-only, copies it
 * under the semaphore and prints it. With -r it then removes the segment
 * and the semaphore, as the last reader of a legacy board would.
 *
 *   cc -O2 -o show show.c && ./show /etc/hostname
 */
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>

#include "board.h"

static const char *states[] = {"ok", "warn", "fail"};

int main(int argc, char **argv) {
	int rm = argc == 3 && strcmp(argv[1], "-r") == 0;
	if (argc != 2 + rm) { fprintf(stderr, "usage: show [-r] PATH\n"); return 2; }
	const char *path = argv[1 + rm];

	key_t key = ftok(path, BOARD_PROJ);
	if (key == -1) { perror("ftok"); return 1; }
	int semid = semget(key, 1, 0);
	if (semid == -1) { perror("semget"); return 1; }
	int shmid = shmget(key, 0, 0);
	if (shmid == -1) { perror("shmget"); return 1; }
	struct shmid_ds ds;
	if (shmctl(shmid, IPC_STAT, &ds) == -1) { perror("shmctl"); return 1; }
	if (ds.shm_segsz < sizeof(struct board)) {
		fprintf(stderr, "show: the board is %zu bytes, this program's is %zu (another ABI?)\n", (size_t)ds.shm_segsz, sizeof(struct board));
		return 1;
	}
	const struct board *shared = shmat(shmid, NULL, SHM_RDONLY);
	if (shared == (void *)-1) { perror("shmat"); return 1; }

	struct sembuf down = {0, -1, SEM_UNDO}, up = {0, 1, SEM_UNDO};
	if (semop(semid, &down, 1) == -1) { perror("semop"); return 1; }
	struct board b = *shared;
	if (semop(semid, &up, 1) == -1) { perror("semop"); return 1; }
	shmdt(shared);

	printf("board %.31s: seq %ld, updated %ld, load %.2f\n", b.name, b.seq, b.updated, b.load);
	int n = b.nrec > BOARD_RECORDS ? BOARD_RECORDS : b.nrec;
	for (int i = 0; i < n; i++) {
		const struct record *r = &b.recs[i];
		printf("  %-4.4s id %u  temp %5.1f  %-4s  reading %+.3f\n", r->tag, r->id, r->temp / 10.0,
		       r->state < 3 ? states[r->state] : "?", r->reading);
	}
	if (rm) {
		if (shmctl(shmid, IPC_RMID, NULL) == -1) { perror("shmctl"); return 1; }
		if (semctl(semid, 0, IPC_RMID) == -1) { perror("semctl"); return 1; }
	}
	return 0;
}
