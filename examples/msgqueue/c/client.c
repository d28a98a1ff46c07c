/*
 * client.c — a client of the message-queue server: `client PATH REQUEST...`
 * sends each request, in order, to the server of ftok(PATH, 'Q') and prints
 * its answer on a line of its own:
 *
 *   upper:TEXT     upper TEXT -> ANSWER      TEXT in upper case (ASCII)
 *   add:NUMBERS    add NUMBERS -> ANSWER     the sum of the integers
 *   shutdown       shutdown -> sent          the server removes the queue
 *                                            and exits; no answer
 *
 * TEXT and NUMBERS are cut to 63 bytes, as they travel in a char[64]; the
 * line shows what was sent. A request the server finds wrong prints
 * "... -> error: WHY" and the others go on. The client finds the queue
 * with msgget(key, 0), never creating it: with no server, it fails with
 * "msgget: No such file or directory".
 *
 * Exit status: 0 if every request was answered, 1 if the server found one
 * wrong, refused one (a client and server built for different ABIs: see
 * msgqueue.h), or anything failed (a perror-style message on stderr), 2 for
 * a usage error (before anything is sent).
 *
 *   cc -O2 -o client client.c && ./client /tmp/msgq.key upper:hello "add:1 2 3" shutdown
 */
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <unistd.h>

#include "msgqueue.h"

static const struct {
	const char *name;
	int op;
} ops[] = {{"upper", OP_UPPER}, {"add", OP_ADD}, {"shutdown", OP_SHUTDOWN}};

/* parse splits "NAME:TEXT" (or "shutdown") and returns its op, 0 if none. */
static int parse(const char *arg, const char **name, const char **text) {
	const char *colon = strchr(arg, ':');
	size_t len = colon ? (size_t)(colon - arg) : strlen(arg);
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		if (strlen(ops[i].name) != len || strncmp(arg, ops[i].name, len) != 0) continue;
		if ((ops[i].op == OP_SHUTDOWN) != (colon == NULL)) return 0;
		*name = ops[i].name;
		*text = colon ? colon + 1 : "";
		return ops[i].op;
	}
	return 0;
}

int main(int argc, char **argv) {
	const char *name, *text;
	if (argc < 3) { fprintf(stderr, "usage: client PATH REQUEST... (upper:TEXT, add:NUMBERS, shutdown)\n"); return 2; }
	for (int i = 2; i < argc; i++) {
		if (!parse(argv[i], &name, &text)) {
			fprintf(stderr, "client: unknown request %s (upper:TEXT, add:NUMBERS or shutdown)\n", argv[i]);
			return 2;
		}
	}

	key_t key = ftok(argv[1], MSGQ_PROJ);
	if (key == -1) { perror("ftok"); return 1; }
	int qid = msgget(key, 0);
	if (qid == -1) { perror("msgget"); return 1; }

	int status = 0;
	for (int i = 2; i < argc; i++) {
		struct request req;
		struct reply rep;
		memset(&req, 0, sizeof req);
		req.mtype = MSGQ_REQUEST;
		req.body.pid = getpid();
		req.body.op = parse(argv[i], &name, &text);
		strncpy(req.body.text, text, sizeof req.body.text - 1);
		if (msgsnd(qid, &req, sizeof req.body, 0) == -1) { perror("msgsnd"); return 1; }
		if (req.body.op == OP_SHUTDOWN) {
			printf("%s -> sent\n", name);
			continue;
		}
		ssize_t n = msgrcv(qid, &rep, sizeof rep.body, req.body.pid, 0);
		if (n == -1) { perror("msgrcv"); return 1; }
		if ((size_t)n != sizeof rep.body) {
			fprintf(stderr, "client: an answer of %zd bytes, expected %zu (a server built for another ABI?)\n", n,
			        sizeof rep.body);
			return 1;
		}
		rep.body.text[sizeof rep.body.text - 1] = '\0';
		if (rep.body.status == ST_REFUSED) {
			fprintf(stderr, "client: the server refused the request: %s\n", rep.body.text);
			return 1;
		}
		if (rep.body.status != ST_OK) {
			printf("%s %s -> error: %s\n", name, req.body.text, rep.body.text);
			status = 1;
			continue;
		}
		printf("%s %s -> %s\n", name, req.body.text, rep.body.text);
	}
	return status;
}
