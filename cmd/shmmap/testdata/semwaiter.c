/*
 * semwaiter: a C process that makes and waits on System V semaphore sets,
 * for the shmmap sem tests. It obeys one command per line on stdin and
 * answers each with one line on stdout (line-buffered); numbers are read
 * with strtol(s, NULL, 0) (0x hex, leading 0 octal).
 *
 *   create KEY NSEMS MODE   semget(KEY, NSEMS, IPC_CREAT|IPC_EXCL|MODE), the
 *                           set becomes current  -> ok ID | err ERRNO
 *   setval NUM VALUE        semctl SETVAL        -> ok | err ERRNO
 *   op NUM DELTA            semop on the current set, which may block: the
 *                           answer comes when it returns -> ok | err ERRNO
 *
 * End of file on stdin ends it; it removes nothing (the test does).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>

int main(void) {
	char line[256], cmd[32];
	long a, b, c;
	int id = -1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof line, stdin)) {
		char sa[64] = "", sb[64] = "", sc[64] = "";
		if (sscanf(line, "%31s %63s %63s %63s", cmd, sa, sb, sc) < 1) continue;
		a = strtol(sa, NULL, 0), b = strtol(sb, NULL, 0), c = strtol(sc, NULL, 0);
		if (strcmp(cmd, "create") == 0) {
			int r = semget((key_t)a, (int)b, IPC_CREAT | IPC_EXCL | (int)c);
			if (r < 0) { printf("err %d\n", errno); continue; }
			id = r;
			printf("ok %d\n", id);
		} else if (strcmp(cmd, "setval") == 0) {
			if (semctl(id, (int)a, SETVAL, (int)b) < 0) printf("err %d\n", errno);
			else printf("ok\n");
		} else if (strcmp(cmd, "op") == 0) {
			struct sembuf op = { (unsigned short)a, (short)b, 0 };
			if (semop(id, &op, 1) < 0) printf("err %d\n", errno);
			else printf("ok\n");
		} else {
			printf("bad %s\n", cmd);
		}
	}
	return 0;
}
