/*
 * semcounter: increments a counter shared with other processes.
 *
 *   semcounter SEGKEY SEMKEY N lock     N increments, each under semaphore 0
 *                                       taken with SEM_UNDO
 *   semcounter SEGKEY SEMKEY N nolock   N increments with no semaphore
 *   semcounter SEGKEY SEMKEY 0 hold     take the semaphore, print "locked",
 *                                       and wait to be killed
 *
 * lock and nolock first wait for semaphore 1 (the start gate) to be 0, so
 * the parent can start every counter at once. The counter is the int64 at
 * offset 0 of the segment at SEGKEY. Each
 * increment is a deliberate read, pause, write, so unsynchronised runs lose
 * updates. testdata/semcounter/main.go is the same program in Go.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc != 5) { fprintf(stderr, "usage: semcounter SEGKEY SEMKEY N lock|nolock|hold\n"); return 2; }
	key_t segkey = (key_t)strtol(argv[1], NULL, 0), semkey = (key_t)strtol(argv[2], NULL, 0);
	long n = strtol(argv[3], NULL, 0);
	int shmid = shmget(segkey, 0, 0), semid = semget(semkey, 0, 0);
	if (shmid < 0 || semid < 0) { perror("semcounter: get"); return 1; }
	volatile long long *counter = shmat(shmid, NULL, 0);
	if (counter == (void *)-1) { perror("semcounter: shmat"); return 1; }
	struct sembuf lock = { 0, -1, SEM_UNDO }, unlock = { 0, 1, SEM_UNDO };
	if (strcmp(argv[4], "hold") == 0) {
		if (semop(semid, &lock, 1) < 0) { perror("semcounter: semop"); return 1; }
		printf("locked\n");
		fflush(stdout);
		for (;;) pause();
	}
	int locked = strcmp(argv[4], "lock") == 0;
	struct sembuf gate = { 1, 0, 0 };
	if (semop(semid, &gate, 1) < 0) { perror("semcounter: gate"); return 1; }
	for (long i = 0; i < n; i++) {
		if (locked && semop(semid, &lock, 1) < 0) { perror("semcounter: semop"); return 1; }
		long long v = *counter;
		for (volatile int spin = 0; spin < 200; spin++) {}
		*counter = v + 1;
		if (locked && semop(semid, &unlock, 1) < 0) { perror("semcounter: semop"); return 1; }
	}
	return 0;
}
