/*
 * msgpeer: a C process for the message-queue cross-process tests, System V
 * (msgget, msgsnd, msgrcv, msgctl) and POSIX (mq_open and friends). Like
 * peer.c it obeys one command per line on stdin and answers each with
 * exactly one line on stdout (line-buffered), so the driver orders every
 * step by reading the answer; no step needs a sleep.
 *
 *   cc -O2 -o msgpeer msgpeer.c -lrt        (-lrt only for glibc before 2.34)
 *
 * # Conventions
 *
 * Numbers are read as C reads them with strtoll(s, NULL, 0): 0x1234 is hex,
 * a leading 0 is octal (04000), anything else decimal, and a leading minus
 * is allowed; flags are passed as numbers, verbatim, so the driver needs no
 * names:
 *
 *   IPC_CREAT 01000   IPC_EXCL 02000   IPC_NOWAIT 04000
 *   MSG_NOERROR 010000   MSG_EXCEPT 020000
 *   O_RDONLY 0   O_WRONLY 01   O_RDWR 02   O_CREAT 0100   O_EXCL 0200
 *   O_NONBLOCK 04000
 *
 * Message bytes travel in lowercase hex; "-" stands for no bytes at all.
 * Flags and modes in answers are octal with a leading 0 (%#o: "0600",
 * "04000", and "0" for none); keys are 0x%08x; everything else is decimal.
 *
 * Answers are "ok ..." on success and "err ERRNO" when the call failed with
 * that errno (a number, as the kernel gives it: the same on i386 and
 * x86-64). A line the peer cannot parse is answered with a line that
 * starts "bad", which a driver should treat as its own bug. End of file on
 * stdin, or "quit" (which is not answered), ends the peer with status 0; it
 * removes nothing it made (the driver does, with rmid and mqunlink).
 *
 * # Blocking commands: the answer comes later
 *
 * snd and rcv without IPC_NOWAIT, and mqsnd and mqrcv without a timeout on a
 * blocking descriptor, may block in the kernel. The peer answers when the
 * call returns and reads no further command until then (what the driver
 * sends meanwhile waits in the pipe). So a test sends the command, makes
 * sure the peer is asleep in the call (on Linux 6, /proc/PID/wchan is
 * do_msgsnd or do_msgrcv for System V, wq_sleep for POSIX either way, and
 * the state in /proc/PID/stat is S), does what should wake it from another
 * process (receive from the full queue, remove the queue, send), and only
 * then reads the answer: "ok" for a sender woken by a receive, "err 43"
 * (EIDRM) for a receiver whose queue was removed.
 *
 * # System V commands (on the peer's current queue id)
 *
 *   get KEY FLAGS            msgget(KEY, FLAGS); the id becomes current
 *                            -> ok ID | err ERRNO
 *   id ID                    make ID current (a queue another process made)
 *                            -> ok
 *   snd TYPE HEX FLAGS       msgsnd of the bytes with mtype TYPE (a C long)
 *                            -> ok | err ERRNO
 *   rcv MAXSIZE MSGTYP FLAGS msgrcv into a buffer of MAXSIZE bytes (negative
 *                            values are passed on, for EINVAL)
 *                            -> ok TYPE HEX | err ERRNO
 *   stat                     msgctl(IPC_STAT)
 *                            -> ok key=0x%08x qnum=N cbytes=N qbytes=N
 *                               lspid=N lrpid=N mode=0%o uid=N gid=N cuid=N
 *                               cgid=N stime=N rtime=N ctime=N | err ERRNO
 *   msgstat INDEX            msgctl(INDEX, MSG_STAT): the queue at that index
 *                            of the kernel's table, as ipcs lists them
 *                            -> ok id=ID and the fields of stat | err ERRNO
 *   info                     msgctl(0, IPC_INFO): the limits
 *                            -> ok msgmax=N msgmnb=N msgmni=N highest=INDEX
 *   setqbytes N              IPC_STAT, msg_qbytes = N, IPC_SET
 *                            -> ok | err ERRNO
 *   setperm UID GID MODE     IPC_STAT, msg_perm.uid, .gid, .mode, IPC_SET
 *                            -> ok | err ERRNO
 *   rmid                     msgctl(IPC_RMID) -> ok | err ERRNO
 *   sndscript SEED FROM COUNT MAX [FILE]
 *   rcvscript SEED FROM COUNT MAX [FILE]
 *                            see "Scripts" below
 *
 * # POSIX commands (on the peer's one descriptor)
 *
 *   mqopen NAME FLAGS MODE MAXMSG MSGSIZE
 *                            mq_open(NAME, FLAGS, MODE, attr) with attr NULL
 *                            when MAXMSG and MSGSIZE are both 0; on success
 *                            the new descriptor replaces (closes) the one
 *                            open before, on failure that one stays
 *                            -> ok | err ERRNO
 *   mqsnd PRIO HEX [TIMEOUT_MS]
 *                            mq_send, or mq_timedsend with the absolute
 *                            CLOCK_REALTIME time TIMEOUT_MS from now (0: the
 *                            present, so ETIMEDOUT at once on a full queue;
 *                            negative: an invalid timespec, for EINVAL)
 *                            -> ok | err ERRNO
 *   mqrcv BUFSIZE [TIMEOUT_MS]
 *                            mq_receive or mq_timedreceive, likewise
 *                            -> ok PRIO HEX | err ERRNO
 *   mqattr                   mq_getattr
 *                            -> ok flags=0%o maxmsg=N msgsize=N curmsgs=N
 *   mqsetattr NONBLOCK       mq_setattr with mq_flags O_NONBLOCK (1) or 0 (0)
 *                            -> the old attributes, as mqattr | err ERRNO
 *   mqnotify none|signal|off mq_notify with SIGEV_NONE, SIGEV_SIGNAL (SIGUSR1,
 *                            counted) or NULL (unregister) -> ok | err ERRNO
 *   signals                  -> ok N: the SIGUSR1s received so far
 *   mqunlink NAME            -> ok | err ERRNO
 *   mqclose                  -> ok | err ERRNO
 *   mqsndscript SEED FROM COUNT MAX [FILE]
 *   mqrcvscript BUFSIZE [FILE]
 *                            see "Scripts" below
 *
 * # Scripts: the same traffic from every language
 *
 * The cross-language tests send thousands of messages of random types and
 * sizes and receive them with varied selections, and compare what comes out
 * with the C-to-C run of the same script. Both sides generate the messages
 * and the selections from a seed with this generator, which a Go peer must
 * implement exactly (all arithmetic on uint64, wrapping):
 *
 *   next(x):     x ^= x << 13; x ^= x >> 7; x ^= x << 17; return x
 *                (xorshift64; x is the state, updated in place)
 *   start(s, i): s + (i+1) * 0x9E3779B97F4A7C15, or 1 if that is 0
 *
 *   Message i (i = 0, 1, 2, ...) of seed S, at most MAX bytes:
 *     x = start(S, i)
 *     class = next(x) % 8     System V mtype class+1 (1..8);
 *                             POSIX priority class (0..7)
 *     k = next(x) % 16
 *     len = 0 if k == 0, MAX if k == 1, else next(x) % (MAX+1)
 *     byte j, for j = 0 .. len-1 in order: next(x) >> 56
 *
 *   Receive step i of seed S (System V):
 *     x = start(~S, i)        (~S: every bit of S flipped)
 *     kind = next(x) % 4
 *     t = 1 + next(x) % 8     (drawn whatever the kind)
 *     kind 0: msgtyp 0; 1: msgtyp t; 2: msgtyp -t; 3: msgtyp t, MSG_EXCEPT
 *     always with IPC_NOWAIT and a buffer of MAX bytes
 *
 * A record describes one message as "TYPE LEN FNV", where FNV is the
 * 64-bit FNV-1a hash of its bytes (offset basis 0xcbf29ce484222325, prime
 * 0x100000001b3: Go's hash/fnv.New64a) as 16 lowercase hex digits. Each
 * command appends its records, one a line, to FILE when given (opened for
 * appending and closed before the answer, so the driver may read it then),
 * and answers with DIGEST, the FNV-1a 64 of exactly the record text it
 * produced (16 hex digits).
 *
 *   sndscript SEED FROM COUNT MAX [FILE]
 *     msgsnd of messages FROM .. FROM+COUNT-1 with IPC_NOWAIT (a batch that
 *     does not fit fails rather than blocks), recording "TYPE LEN FNV" for
 *     each -> ok COUNT DIGEST | err ERRNO INDEX (the message that failed;
 *     those before it were sent and recorded)
 *   rcvscript SEED FROM COUNT MAX [FILE]
 *     receive steps FROM .. FROM+COUNT-1, then a drain: msgrcv(MAX, 0,
 *     IPC_NOWAIT) until it fails. Each attempt is recorded as
 *     "MSGTYP FLAGS TYPE LEN FNV" or, when the queue has no message it
 *     selects, "MSGTYP FLAGS err 42" (ENOMSG), FLAGS as %#o ("04000",
 *     "024000" with MSG_EXCEPT); the drain ends with such a line for msgtyp 0.
 *     -> ok RECEIVED NOMSG DIGEST (messages received, ENOMSG answers) |
 *        err ERRNO STEP for any other error (STEP -1 in the drain)
 *
 * The driver runs a script in batches: the sender sends a batch (which must
 * fit in the queue: raise msg_qbytes with setqbytes), the receiver receives
 * the same range of steps and drains, and only then does the next batch
 * begin. Every receive therefore meets a queue whose content the script
 * alone decides, so the records, ENOMSGs included, are the same in every
 * run, whichever language sends or receives.
 *
 *   mqsndscript SEED FROM COUNT MAX [FILE]
 *     mq_timedsend of messages FROM .. FROM+COUNT-1 with priority class and
 *     an absolute timeout in the past (so a full queue fails at once,
 *     ETIMEDOUT, or EAGAIN on an O_NONBLOCK descriptor), recording
 *     "PRIO LEN FNV" -> ok COUNT DIGEST | err ERRNO INDEX
 *   mqrcvscript BUFSIZE [FILE]
 *     mq_timedreceive with a timeout in the past until it fails, recording
 *     "PRIO LEN FNV" for each message and "err ERRNO" for the failure that
 *     ends it (ETIMEDOUT, or EAGAIN on an O_NONBLOCK descriptor)
 *     -> ok RECEIVED DIGEST | err ERRNO -1 if the first failure is another
 */
#define _GNU_SOURCE /* MSG_EXCEPT, MSG_STAT, struct msginfo */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <time.h>
#include <unistd.h>

/* ---- the script generator (see the header comment) ---- */

static uint64_t next(uint64_t *x) {
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static uint64_t start(uint64_t seed, uint64_t i) {
	uint64_t x = seed + (i + 1) * UINT64_C(0x9E3779B97F4A7C15);
	return x ? x : 1;
}

/* gen fills buf (room for max bytes) with message i of seed and returns its
 * length; *class gets its class. */
static size_t gen(uint64_t seed, uint64_t i, size_t max, unsigned char *buf, unsigned *class) {
	uint64_t x = start(seed, i);
	*class = (unsigned)(next(&x) % 8);
	uint64_t k = next(&x) % 16;
	size_t len = k == 0 ? 0 : k == 1 ? max : (size_t)(next(&x) % ((uint64_t)max + 1));
	for (size_t j = 0; j < len; j++) buf[j] = (unsigned char)(next(&x) >> 56);
	return len;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

#define FNV_BASIS UINT64_C(0xcbf29ce484222325)

/* A record sink: the digest of everything written, and the file if any. */
struct sink {
	FILE *f;
	uint64_t digest;
};

static int sink_open(struct sink *s, const char *path) {
	s->digest = FNV_BASIS;
	s->f = NULL;
	if (path && !(s->f = fopen(path, "a"))) return -1;
	return 0;
}

static void record(struct sink *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void record(struct sink *s, const char *fmt, ...) {
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	s->digest = fnv(s->digest, line, (size_t)n);
	if (s->f) fwrite(line, 1, (size_t)n, s->f);
}

/* sink_close closes the file; it returns -1 if anything failed to reach it. */
static int sink_close(struct sink *s) {
	if (!s->f) return 0;
	int bad = ferror(s->f);
	if (fclose(s->f) != 0 || bad) return -1;
	return 0;
}

/* ---- parsing and printing ---- */

static int num(const char *s, long long *v) {
	char *end;
	errno = 0;
	*v = strtoll(s, &end, 0);
	return *s && !*end && errno == 0 ? 0 : -1;
}

static int unum(const char *s, unsigned long long *v) {
	char *end;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return *s && *s != '-' && !*end && errno == 0 ? 0 : -1;
}

static int hexval(char c) {
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* unhex decodes s ("-" for nothing) into a new buffer with room for pre
 * bytes before the data; it returns NULL for bad hex. */
static unsigned char *unhex(const char *s, size_t pre, size_t *n) {
	size_t len = strcmp(s, "-") == 0 ? 0 : strlen(s);
	if (len % 2) return NULL;
	unsigned char *b = malloc(pre + len / 2 + 1);
	if (!b) return NULL;
	for (size_t i = 0; i < len / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(b);
			return NULL;
		}
		b[pre + i] = (unsigned char)(hi << 4 | lo);
	}
	*n = len / 2;
	return b;
}

static void puthex(const unsigned char *b, size_t n) {
	static const char digits[] = "0123456789abcdef";
	if (n == 0) {
		fputs("-", stdout);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		putchar(digits[b[i] >> 4]);
		putchar(digits[b[i] & 15]);
	}
}

static void err(void) { printf("err %d\n", errno); }

static void print_ds(const struct msqid_ds *ds) {
	printf("key=0x%08x qnum=%llu cbytes=%llu qbytes=%llu lspid=%d lrpid=%d mode=%#o uid=%u gid=%u cuid=%u cgid=%u "
	       "stime=%lld rtime=%lld ctime=%lld\n",
	       (unsigned)ds->msg_perm.__key, (unsigned long long)ds->msg_qnum, (unsigned long long)ds->msg_cbytes,
	       (unsigned long long)ds->msg_qbytes, (int)ds->msg_lspid, (int)ds->msg_lrpid,
	       (unsigned)ds->msg_perm.mode, (unsigned)ds->msg_perm.uid, (unsigned)ds->msg_perm.gid,
	       (unsigned)ds->msg_perm.cuid, (unsigned)ds->msg_perm.cgid, (long long)ds->msg_stime,
	       (long long)ds->msg_rtime, (long long)ds->msg_ctime);
}

static void print_attr(const struct mq_attr *a) {
	printf("ok flags=%#lo maxmsg=%ld msgsize=%ld curmsgs=%ld\n", (unsigned long)a->mq_flags, (long)a->mq_maxmsg,
	       (long)a->mq_msgsize, (long)a->mq_curmsgs);
}

/* deadline returns the absolute CLOCK_REALTIME time ms milliseconds from
 * now; negative ms gives an invalid timespec (tv_nsec out of range). */
static struct timespec deadline(long long ms) {
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (ms < 0) {
		ts.tv_nsec = 1000000000;
		return ts;
	}
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

/* ---- System V ---- */

static int qid = -1;

/* A message buffer: a C long mtype, then the bytes. */
struct msg {
	long mtype;
	unsigned char mtext[];
};

static void cmd_get(char **a) {
	long long key, flags;
	if (num(a[1], &key) || num(a[2], &flags)) goto bad;
	int id = msgget((key_t)key, (int)flags);
	if (id < 0) return err();
	qid = id;
	printf("ok %d\n", id);
	return;
bad:
	printf("bad get\n");
}

static void cmd_snd(char **a) {
	long long type, flags;
	size_t n;
	if (num(a[1], &type) || num(a[3], &flags)) {
		printf("bad snd\n");
		return;
	}
	struct msg *m = (struct msg *)unhex(a[2], sizeof(long), &n);
	if (!m) {
		printf("bad snd: hex\n");
		return;
	}
	m->mtype = (long)type;
	if (msgsnd(qid, m, n, (int)flags) < 0)
		err();
	else
		printf("ok\n");
	free(m);
}

static void cmd_rcv(char **a) {
	long long max, typ, flags;
	if (num(a[1], &max) || num(a[2], &typ) || num(a[3], &flags) || max > (1LL << 30)) {
		printf("bad rcv\n");
		return;
	}
	/* A negative size goes to the kernel as it is (it refuses it with
	 * EINVAL before touching the buffer). */
	struct msg *m = malloc(sizeof(long) + (max > 0 ? (size_t)max : 1));
	if (!m) {
		printf("bad rcv: out of memory\n");
		return;
	}
	ssize_t n = msgrcv(qid, m, (size_t)max, (long)typ, (int)flags);
	if (n < 0) {
		err();
	} else {
		printf("ok %ld ", m->mtype);
		puthex(m->mtext, (size_t)n);
		putchar('\n');
	}
	free(m);
}

static void cmd_stat(void) {
	struct msqid_ds ds;
	if (msgctl(qid, IPC_STAT, &ds) < 0) return err();
	printf("ok ");
	print_ds(&ds);
}

static void cmd_msgstat(char **a) {
	long long idx;
	struct msqid_ds ds;
	if (num(a[1], &idx)) {
		printf("bad msgstat\n");
		return;
	}
	int id = msgctl((int)idx, MSG_STAT, &ds);
	if (id < 0) return err();
	printf("ok id=%d ", id);
	print_ds(&ds);
}

static void cmd_info(void) {
	struct msginfo mi;
	int highest = msgctl(0, IPC_INFO, (struct msqid_ds *)(void *)&mi);
	if (highest < 0) return err();
	printf("ok msgmax=%d msgmnb=%d msgmni=%d highest=%d\n", mi.msgmax, mi.msgmnb, mi.msgmni, highest);
}

static void cmd_set(long long *qbytes, long long *uid, long long *gid, long long *mode) {
	struct msqid_ds ds;
	if (msgctl(qid, IPC_STAT, &ds) < 0) return err();
	if (qbytes) ds.msg_qbytes = (msglen_t)*qbytes;
	if (uid) ds.msg_perm.uid = (uid_t)*uid;
	if (gid) ds.msg_perm.gid = (gid_t)*gid;
	if (mode) ds.msg_perm.mode = (unsigned short)*mode;
	if (msgctl(qid, IPC_SET, &ds) < 0) return err();
	printf("ok\n");
}

/* script arguments: SEED FROM COUNT MAX [FILE] */
struct script {
	unsigned long long seed, from, count, max;
	const char *file;
};

static int script_args(char **a, int n, struct script *s) {
	if (n != 5 && n != 6) return -1;
	if (unum(a[1], &s->seed) || unum(a[2], &s->from) || unum(a[3], &s->count) || unum(a[4], &s->max) ||
	    s->max > (1ULL << 30))
		return -1;
	s->file = n == 6 ? a[5] : NULL;
	return 0;
}

static void cmd_sndscript(char **a, int n) {
	struct script s;
	struct sink out;
	if (script_args(a, n, &s)) {
		printf("bad sndscript\n");
		return;
	}
	struct msg *m = malloc(sizeof(long) + s.max + 1);
	if (!m || sink_open(&out, s.file)) {
		free(m);
		return err();
	}
	for (unsigned long long i = s.from; i < s.from + s.count; i++) {
		unsigned class;
		size_t len = gen(s.seed, i, s.max, m->mtext, &class);
		m->mtype = (long)class + 1;
		if (msgsnd(qid, m, len, IPC_NOWAIT) < 0) {
			int e = errno;
			sink_close(&out);
			free(m);
			printf("err %d %llu\n", e, i);
			return;
		}
		record(&out, "%ld %zu %016llx\n", m->mtype, len, (unsigned long long)fnv(FNV_BASIS, m->mtext, len));
	}
	free(m);
	if (sink_close(&out)) return err();
	printf("ok %llu %016llx\n", s.count, (unsigned long long)out.digest);
}

static void cmd_rcvscript(char **a, int n) {
	struct script s;
	struct sink out;
	if (script_args(a, n, &s)) {
		printf("bad rcvscript\n");
		return;
	}
	struct msg *m = malloc(sizeof(long) + s.max + 1);
	if (!m || sink_open(&out, s.file)) {
		free(m);
		return err();
	}
	unsigned long long got = 0, nomsg = 0;
	/* Steps FROM .. FROM+COUNT-1, then the drain (i == end). */
	unsigned long long end = s.from + s.count;
	for (unsigned long long i = s.from; i <= end; i++) {
		long typ = 0;
		int flags = IPC_NOWAIT;
		if (i < end) {
			uint64_t x = start(~(uint64_t)s.seed, i);
			unsigned kind = (unsigned)(next(&x) % 4);
			long t = 1 + (long)(next(&x) % 8);
			typ = kind == 0 ? 0 : kind == 2 ? -t : t;
			if (kind == 3) flags |= MSG_EXCEPT;
		}
		ssize_t r = msgrcv(qid, m, s.max, typ, flags);
		if (r < 0 && errno != ENOMSG) {
			int e = errno;
			sink_close(&out);
			free(m);
			printf("err %d %lld\n", e, i < end ? (long long)i : -1LL);
			return;
		}
		if (r < 0) {
			nomsg++;
			record(&out, "%ld %#o err %d\n", typ, (unsigned)flags, ENOMSG);
			continue; /* the drain ends at its ENOMSG (the loop ends) */
		}
		got++;
		record(&out, "%ld %#o %ld %zd %016llx\n", typ, (unsigned)flags, m->mtype, r,
		       (unsigned long long)fnv(FNV_BASIS, m->mtext, (size_t)r));
		if (i == end) i--; /* keep draining */
	}
	free(m);
	if (sink_close(&out)) return err();
	printf("ok %llu %llu %016llx\n", got, nomsg, (unsigned long long)out.digest);
}

/* ---- POSIX ---- */

static mqd_t mqd = (mqd_t)-1;
static volatile sig_atomic_t nsignals;

static void on_sigusr1(int sig) {
	(void)sig;
	nsignals++;
}

static void cmd_mqopen(char **a) {
	long long flags, mode, maxmsg, msgsize;
	if (num(a[2], &flags) || num(a[3], &mode) || num(a[4], &maxmsg) || num(a[5], &msgsize)) {
		printf("bad mqopen\n");
		return;
	}
	struct mq_attr attr = {0};
	attr.mq_maxmsg = (long)maxmsg;
	attr.mq_msgsize = (long)msgsize;
	mqd_t d = mq_open(a[1], (int)flags, (mode_t)mode, maxmsg || msgsize ? &attr : NULL);
	if (d == (mqd_t)-1) return err();
	if (mqd != (mqd_t)-1) mq_close(mqd);
	mqd = d;
	printf("ok\n");
}

static void cmd_mqsnd(char **a, int n) {
	long long prio, ms = 0;
	size_t len;
	if (num(a[1], &prio) || (n == 4 && num(a[3], &ms))) {
		printf("bad mqsnd\n");
		return;
	}
	unsigned char *b = unhex(a[2], 0, &len);
	if (!b) {
		printf("bad mqsnd: hex\n");
		return;
	}
	int r;
	if (n == 4) {
		struct timespec ts = deadline(ms);
		r = mq_timedsend(mqd, (char *)b, len, (unsigned)prio, &ts);
	} else {
		r = mq_send(mqd, (char *)b, len, (unsigned)prio);
	}
	if (r < 0)
		err();
	else
		printf("ok\n");
	free(b);
}

static void cmd_mqrcv(char **a, int n) {
	long long size, ms = 0;
	if (num(a[1], &size) || size < 0 || size > (1LL << 30) || (n == 3 && num(a[2], &ms))) {
		printf("bad mqrcv\n");
		return;
	}
	char *b = malloc((size_t)size + 1);
	if (!b) {
		printf("bad mqrcv: out of memory\n");
		return;
	}
	unsigned prio = 0;
	ssize_t r;
	if (n == 3) {
		struct timespec ts = deadline(ms);
		r = mq_timedreceive(mqd, b, (size_t)size, &prio, &ts);
	} else {
		r = mq_receive(mqd, b, (size_t)size, &prio);
	}
	if (r < 0) {
		err();
	} else {
		printf("ok %u ", prio);
		puthex((unsigned char *)b, (size_t)r);
		putchar('\n');
	}
	free(b);
}

static void cmd_mqattr(void) {
	struct mq_attr attr;
	if (mq_getattr(mqd, &attr) < 0) return err();
	print_attr(&attr);
}

static void cmd_mqsetattr(char **a) {
	long long nb;
	if (num(a[1], &nb)) {
		printf("bad mqsetattr\n");
		return;
	}
	struct mq_attr attr = {0}, old;
	attr.mq_flags = nb ? O_NONBLOCK : 0;
	if (mq_setattr(mqd, &attr, &old) < 0) return err();
	print_attr(&old);
}

static void cmd_mqnotify(char **a) {
	struct sigevent ev = {0};
	struct sigevent *p = &ev;
	if (strcmp(a[1], "none") == 0) {
		ev.sigev_notify = SIGEV_NONE;
	} else if (strcmp(a[1], "signal") == 0) {
		ev.sigev_notify = SIGEV_SIGNAL;
		ev.sigev_signo = SIGUSR1;
	} else if (strcmp(a[1], "off") == 0) {
		p = NULL;
	} else {
		printf("bad mqnotify\n");
		return;
	}
	if (mq_notify(mqd, p) < 0) return err();
	printf("ok\n");
}

static void cmd_mqsndscript(char **a, int n) {
	struct script s;
	struct sink out;
	if (script_args(a, n, &s)) {
		printf("bad mqsndscript\n");
		return;
	}
	unsigned char *b = malloc(s.max + 1);
	if (!b || sink_open(&out, s.file)) {
		free(b);
		return err();
	}
	struct timespec past = {0, 0};
	for (unsigned long long i = s.from; i < s.from + s.count; i++) {
		unsigned class;
		size_t len = gen(s.seed, i, s.max, b, &class);
		if (mq_timedsend(mqd, (char *)b, len, class, &past) < 0) {
			int e = errno;
			sink_close(&out);
			free(b);
			printf("err %d %llu\n", e, i);
			return;
		}
		record(&out, "%u %zu %016llx\n", class, len, (unsigned long long)fnv(FNV_BASIS, b, len));
	}
	free(b);
	if (sink_close(&out)) return err();
	printf("ok %llu %016llx\n", s.count, (unsigned long long)out.digest);
}

static void cmd_mqrcvscript(char **a, int n) {
	unsigned long long size;
	struct sink out;
	if ((n != 2 && n != 3) || unum(a[1], &size) || size > (1ULL << 30)) {
		printf("bad mqrcvscript\n");
		return;
	}
	char *b = malloc(size + 1);
	if (!b || sink_open(&out, n == 3 ? a[2] : NULL)) {
		free(b);
		return err();
	}
	struct timespec past = {0, 0};
	unsigned long long got = 0;
	for (;;) {
		unsigned prio;
		ssize_t r = mq_timedreceive(mqd, b, size, &prio, &past);
		if (r < 0) {
			int e = errno;
			if (e != ETIMEDOUT && e != EAGAIN) {
				sink_close(&out);
				free(b);
				printf("err %d -1\n", e);
				return;
			}
			record(&out, "err %d\n", e);
			break;
		}
		got++;
		record(&out, "%u %zd %016llx\n", prio, r, (unsigned long long)fnv(FNV_BASIS, b, (size_t)r));
	}
	free(b);
	if (sink_close(&out)) return err();
	printf("ok %llu %016llx\n", got, (unsigned long long)out.digest);
}

/* ---- the command loop ---- */

#define MAXARGS 8

int main(void) {
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	setvbuf(stdout, NULL, _IOLBF, 0);

	struct sigaction sa = {0};
	sa.sa_handler = on_sigusr1;
	sa.sa_flags = SA_RESTART; /* reads of stdin go on; msgrcv and mq_receive still fail with EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);

	while ((len = getline(&line, &cap, stdin)) >= 0) {
		char *a[MAXARGS + 1];
		int n = 0;
		for (char *tok = strtok(line, " \t\r\n"); tok; tok = strtok(NULL, " \t\r\n")) {
			if (n == MAXARGS) {
				n = -1;
				break;
			}
			a[n++] = tok;
		}
		a[n < 0 ? 0 : n] = NULL;
#define IS(name, min, max) (n >= (min) && n <= (max) && strcmp(a[0], name) == 0)
		if (n <= 0) {
			printf("bad empty or too long\n");
		} else if (strcmp(a[0], "quit") == 0) {
			break;
		} else if (IS("get", 3, 3)) {
			cmd_get(a);
		} else if (IS("id", 2, 2)) {
			long long id;
			if (num(a[1], &id)) {
				printf("bad id\n");
			} else {
				qid = (int)id;
				printf("ok\n");
			}
		} else if (IS("snd", 4, 4)) {
			cmd_snd(a);
		} else if (IS("rcv", 4, 4)) {
			cmd_rcv(a);
		} else if (IS("stat", 1, 1)) {
			cmd_stat();
		} else if (IS("msgstat", 2, 2)) {
			cmd_msgstat(a);
		} else if (IS("info", 1, 1)) {
			cmd_info();
		} else if (IS("setqbytes", 2, 2)) {
			long long q;
			if (num(a[1], &q))
				printf("bad setqbytes\n");
			else
				cmd_set(&q, NULL, NULL, NULL);
		} else if (IS("setperm", 4, 4)) {
			long long uid, gid, mode;
			if (num(a[1], &uid) || num(a[2], &gid) || num(a[3], &mode))
				printf("bad setperm\n");
			else
				cmd_set(NULL, &uid, &gid, &mode);
		} else if (IS("rmid", 1, 1)) {
			if (msgctl(qid, IPC_RMID, NULL) < 0)
				err();
			else
				printf("ok\n");
		} else if (IS("sndscript", 5, 6)) {
			cmd_sndscript(a, n);
		} else if (IS("rcvscript", 5, 6)) {
			cmd_rcvscript(a, n);
		} else if (IS("mqopen", 6, 6)) {
			cmd_mqopen(a);
		} else if (IS("mqsnd", 3, 4)) {
			cmd_mqsnd(a, n);
		} else if (IS("mqrcv", 2, 3)) {
			cmd_mqrcv(a, n);
		} else if (IS("mqattr", 1, 1)) {
			cmd_mqattr();
		} else if (IS("mqsetattr", 2, 2)) {
			cmd_mqsetattr(a);
		} else if (IS("mqnotify", 2, 2)) {
			cmd_mqnotify(a);
		} else if (IS("signals", 1, 1)) {
			printf("ok %d\n", (int)nsignals);
		} else if (IS("mqunlink", 2, 2)) {
			if (mq_unlink(a[1]) < 0)
				err();
			else
				printf("ok\n");
		} else if (IS("mqclose", 1, 1)) {
			if (mq_close(mqd) < 0) {
				err();
			} else {
				mqd = (mqd_t)-1;
				printf("ok\n");
			}
		} else if (IS("mqsndscript", 5, 6)) {
			cmd_mqsndscript(a, n);
		} else if (IS("mqrcvscript", 2, 3)) {
			cmd_mqrcvscript(a, n);
		} else {
			printf("bad %s (%d arguments)\n", a[0], n - 1);
		}
	}
	free(line);
	return 0;
}
