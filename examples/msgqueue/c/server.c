/*
 * server.c — a classic System V message-queue server: `server PATH` creates
 * the queue for ftok(PATH, 'Q'), prints "ready" once clients may send, and
 * answers the requests (mtype 1) one after another, each on the same queue
 * with mtype = the pid the client put in it (see msgqueue.h). A shutdown
 * request makes it remove the queue (a client still waiting for an answer
 * gets EIDRM), print "shutdown" and exit 0.
 *
 * The queue is made with IPC_EXCL and mode 0600: a queue already at the key
 * means another server is running, or one died and left its queue (and
 * its unanswered requests) behind, and the server says so and exits 1
 * rather than share it; `ipcrm -Q KEY` clears a dead one. Clients must run
 * as the same user (widen the mode, e.g. 0660 with a shared group, for
 * others).
 *
 * A request whose size is not this server's struct request body (80 bytes
 * on x86-64, 72 on i386) comes from a client built for the other ABI: its
 * fields are not where this server looks. The server does not read it, but
 * answers it with ST_REFUSED so that the client stops waiting: it addresses
 * the answer to the pid in the first 4 bytes of the body, which is where
 * both ABIs put the pid's value (little-endian x86 stores a long's low half
 * first, and pids fit in it). It receives into a buffer larger than any
 * request, with MSG_NOERROR, so that a longer request is refused too rather
 * than left at the head of the queue forever with E2BIG.
 *
 * An answer waits for room in the queue (msgsnd without IPC_NOWAIT), as in
 * the classic design; clients that flood the queue with requests faster
 * than they take their answers can block the server, the known weakness of
 * one queue for both directions.
 *
 *   cc -O2 -o server server.c && ./server /tmp/msgq.key
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>

#include "msgqueue.h"

/* upper puts text in upper case: ASCII letters only, as the C locale does. */
static int upper(const char *text, char *out, size_t n) {
	size_t i;
	for (i = 0; text[i] && i + 1 < n; i++) out[i] = (char)toupper((unsigned char)text[i]);
	out[i] = '\0';
	return ST_OK;
}

/* add writes the sum of the integers in text, or what is wrong with them. */
static int add(const char *text, char *out, size_t n) {
	long long sum = 0;
	const char *p = text;
	for (;;) {
		while (isspace((unsigned char)*p)) p++;
		if (!*p) break;
		size_t len = strcspn(p, " \t\n\v\f\r");
		char *end;
		errno = 0;
		long long v = strtoll(p, &end, 10);
		if (end != p + len) {
			snprintf(out, n, "not a number: %.*s", (int)len, p);
			return ST_BAD;
		}
		if (errno == ERANGE || __builtin_add_overflow(sum, v, &sum)) {
			snprintf(out, n, "too large");
			return ST_BAD;
		}
		p = end;
	}
	snprintf(out, n, "%lld", sum);
	return ST_OK;
}

int main(int argc, char **argv) {
	if (argc != 2) { fprintf(stderr, "usage: server PATH\n"); return 2; }
	key_t key = ftok(argv[1], MSGQ_PROJ);
	if (key == -1) { perror("ftok"); return 1; }
	int qid = msgget(key, IPC_CREAT | IPC_EXCL | 0600);
	if (qid == -1) { perror("msgget"); return 1; }
	printf("ready\n");
	fflush(stdout);

	for (;;) {
		/* Room for any request, this ABI's or not (see above). */
		union {
			struct request req;
			char raw[sizeof(long) + 256];
		} in;
		struct reply rep;
		ssize_t n = msgrcv(qid, &in, sizeof in.raw - sizeof(long), MSGQ_REQUEST, MSG_NOERROR);
		if (n == -1) {
			if (errno == EINTR) continue;
			perror("msgrcv"); /* EIDRM: someone removed the queue */
			return 1;
		}
		memset(&rep, 0, sizeof rep);
		if ((size_t)n != sizeof in.req.body) {
			int32_t pid = 0;
			if (n >= 4) memcpy(&pid, &in.req.body, 4);
			fprintf(stderr, "server: refused a request of %zd bytes (this server's are %zu: a client built for another ABI?)\n",
			        n, sizeof in.req.body);
			if (pid <= 1) continue; /* no one to tell */
			rep.mtype = pid;
			rep.body.status = ST_REFUSED;
			snprintf(rep.body.text, sizeof rep.body.text, "a request of %zd bytes; this server's are %zu", n,
			         sizeof in.req.body);
		} else {
			struct request *req = &in.req;
			req->body.text[sizeof req->body.text - 1] = '\0';
			if (req->body.op == OP_SHUTDOWN) {
				if (msgctl(qid, IPC_RMID, NULL) == -1) { perror("msgctl"); return 1; }
				printf("shutdown\n");
				return 0;
			}
			rep.mtype = req->body.pid;
			if (req->body.op == OP_UPPER) {
				rep.body.status = upper(req->body.text, rep.body.text, sizeof rep.body.text);
			} else if (req->body.op == OP_ADD) {
				rep.body.status = add(req->body.text, rep.body.text, sizeof rep.body.text);
			} else {
				rep.body.status = ST_BAD;
				snprintf(rep.body.text, sizeof rep.body.text, "unknown operation %d", req->body.op);
			}
			if (rep.mtype <= 1) {
				fprintf(stderr, "server: a request from pid %ld: no one to answer\n", rep.mtype);
				continue;
			}
		}
		if (msgsnd(qid, &rep, sizeof rep.body, 0) == -1) {
			if (errno == EINTR) continue;
			perror("msgsnd");
			return 1;
		}
	}
}
