/*
 * msg: the C end of the message-queue round-trip benchmarks. Messages are
 * SIZE bytes; the first 8 carry the sequence number, which the pinging end
 * checks in each answer. The benchmark creates the queues and removes them;
 * this program only uses them.
 *
 * System V, one queue ID (msgget(IPC_PRIVATE) by the benchmark): ping sends
 * type 1 and waits for type 2; pong answers each type 1 with a type 2 of the
 * same bytes:
 *
 *   msg sysv ping|pong ID SIZE COUNT
 *
 * POSIX, two queues (mq_msgsize SIZE): ping sends on TO and receives on
 * FROM, pong receives on TO and sends on FROM, with mq_send and mq_receive
 * (glibc's mq_timedsend and mq_timedreceive without a deadline: the same
 * system calls, and what the Go rows call with a nil abstime), priority 0:
 *
 *   msg mq ping|pong TO FROM SIZE COUNT
 *
 * ping makes one untimed round trip first (so the peer's start-up is not
 * timed), then COUNT timed ones, and prints the nanoseconds per round trip;
 * pong answers COUNT+1 messages.
 *
 * nowait times COUNT msgrcv calls with IPC_NOWAIT on an empty queue of its
 * own (msgget(IPC_PRIVATE), removed at the end), each failing with ENOMSG,
 * and prints the nanoseconds per call: a system call that cannot block.
 *
 *   msg nowait COUNT
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/msg.h>

static double now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void die(const char *what) {
	perror(what);
	exit(1);
}

static void check(long i, const char *text, size_t n, size_t size) {
	uint64_t seq;
	memcpy(&seq, text, 8);
	if (n != size || seq != (uint64_t)i) {
		fprintf(stderr, "msg: answer %ld has sequence %llu, %zu bytes\n", i, (unsigned long long)seq, n);
		exit(1);
	}
}

struct msgbuf_ {
	long mtype;
	char mtext[];
};

static int sysv_main(int ping, int id, size_t size, long count) {
	struct msgbuf_ *m = calloc(1, sizeof(long) + size);
	if (!m) die("msg: calloc");
	double start = 0;
	for (long i = -1; i < count; i++) { /* i = -1: the untimed first trip */
		if (ping) {
			if (i == 0) start = now_ns();
			uint64_t seq = (uint64_t)i;
			memcpy(m->mtext, &seq, 8);
			m->mtype = 1;
			if (msgsnd(id, m, size, 0) < 0) die("msg: msgsnd");
			ssize_t n = msgrcv(id, m, size, 2, 0);
			if (n < 0) die("msg: msgrcv");
			check(i, m->mtext, (size_t)n, size);
		} else {
			ssize_t n = msgrcv(id, m, size, 1, 0);
			if (n < 0) die("msg: msgrcv");
			m->mtype = 2;
			if (msgsnd(id, m, (size_t)n, 0) < 0) die("msg: msgsnd");
		}
	}
	if (ping) printf("%.1f\n", (now_ns() - start) / count);
	free(m);
	return 0;
}

static int mq_main(int ping, const char *to, const char *from, size_t size, long count) {
	mqd_t tq = mq_open(to, ping ? O_WRONLY : O_RDONLY);
	if (tq == (mqd_t)-1) die("msg: mq_open TO");
	mqd_t fq = mq_open(from, ping ? O_RDONLY : O_WRONLY);
	if (fq == (mqd_t)-1) die("msg: mq_open FROM");
	char *buf = calloc(1, size);
	if (!buf) die("msg: calloc");
	double start = 0;
	for (long i = -1; i < count; i++) {
		if (ping) {
			if (i == 0) start = now_ns();
			uint64_t seq = (uint64_t)i;
			memcpy(buf, &seq, 8);
			if (mq_send(tq, buf, size, 0) < 0) die("msg: mq_send");
			ssize_t n = mq_receive(fq, buf, size, NULL);
			if (n < 0) die("msg: mq_receive");
			check(i, buf, (size_t)n, size);
		} else {
			ssize_t n = mq_receive(tq, buf, size, NULL);
			if (n < 0) die("msg: mq_receive");
			if (mq_send(fq, buf, (size_t)n, 0) < 0) die("msg: mq_send");
		}
	}
	if (ping) printf("%.1f\n", (now_ns() - start) / count);
	mq_close(tq);
	mq_close(fq);
	free(buf);
	return 0;
}

static int nowait_main(long count) {
	int id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	if (id < 0) die("msg: msgget");
	struct msgbuf_ *m = calloc(1, sizeof(long) + 64);
	if (!m) die("msg: calloc");
	double start = now_ns();
	for (long i = 0; i < count; i++) {
		if (msgrcv(id, m, 64, 0, IPC_NOWAIT) >= 0 || errno != ENOMSG) {
			msgctl(id, IPC_RMID, NULL);
			die("msg: msgrcv IPC_NOWAIT on an empty queue");
		}
	}
	double ns = (now_ns() - start) / count;
	if (msgctl(id, IPC_RMID, NULL) < 0) die("msg: msgctl IPC_RMID");
	printf("%.1f\n", ns);
	free(m);
	return 0;
}

int main(int argc, char **argv) {
	if (argc == 3 && strcmp(argv[1], "nowait") == 0) {
		long count = atol(argv[2]);
		return nowait_main(count < 1 ? 1 : count);
	}
	int sysv = argc == 6 && strcmp(argv[1], "sysv") == 0;
	int mq = argc == 7 && strcmp(argv[1], "mq") == 0;
	if ((!sysv && !mq) || (strcmp(argv[2], "ping") != 0 && strcmp(argv[2], "pong") != 0)) {
		fprintf(stderr, "usage: msg sysv ping|pong ID SIZE COUNT | msg mq ping|pong TO FROM SIZE COUNT | msg nowait COUNT\n");
		return 2;
	}
	int ping = strcmp(argv[2], "ping") == 0;
	size_t size = strtoul(argv[argc - 2], NULL, 0);
	long count = atol(argv[argc - 1]);
	if (size < 8) size = 8;
	if (count < 1) count = 1;
	if (sysv) return sysv_main(ping, atoi(argv[3]), size, count);
	return mq_main(ping, argv[3], argv[4], size, count);
}
