/*
 * consumer: reads the test messages (msg.h) from a ring and checks each one:
 * its size and type, its sequence number and its checksum.
 *
 *   consumer (-k KEY | -f PATH) [-i] [-n N] [-s SEED] [-m MAX] [-p MS] [-S K] [-t MS] [-z] [-b K]
 *
 * Prints "ready" once it holds the consumer role, reads until the producer
 * closes the ring (EOF), and prints "count N sum S sleeps A wakes B
 * timeouts C"; with -n N it also fails unless exactly N arrived. With -S K
 * it reads K messages, prints "stalled" and waits for stdin to close (the
 * parent kills it there). On an error it prints "count ..." for what it got,
 * then "error NAME: ...", and exits 3 if the producer died, 1 otherwise.
 * With -b K it reads with shmring_read_batch, up to K messages a batch.
 */
#include "msg.h"

struct check {
	struct opts *o;
	uint32_t max;
	uint64_t count, sum;
	int bad;
};

static int on_msg(void *arg, uint32_t type, const void *msg, uint32_t n) {
	struct check *c = arg;
	uint32_t wtype, wsize;
	uint64_t x;
	msg_spec(c->o->seed, c->count, c->max, &wtype, &wsize, &x);
	const unsigned char *b = msg;
	if (n != wsize || type != wtype || n < 12 || msg_le64(b + 4) != c->count || msg_checksum(b + 4, n - 4) != msg_le32(b)) {
		printf("error bad message %llu: type %u size %u (want type %u size %u)\n", (unsigned long long)c->count, type, n, wtype, wsize);
		c->bad = 1;
		return 0;
	}
	c->count++;
	c->sum += msg_le32(b);
	return 0;
}

int main(int argc, char **argv) {
	struct opts o;
	struct shmring r;
	parse_opts(argc, argv, &o);
	setvbuf(stdout, NULL, _IOLBF, 0);
	open_ring(&o, &r);
	int rc = shmring_consumer(&r);
	if (rc) fail(&r, rc, "taking the consumer role");
	struct check c = {&o, o.max < shmring_max_message(&r) ? o.max : shmring_max_message(&r), 0, 0, 0};
	printf("ready\n");
	for (;;) {
		if (o.stall >= 0 && c.count == (uint64_t)o.stall) {
			printf("stalled\n");
			char ch;
			while (read(0, &ch, 1) > 0) {}
			return 0;
		}
		if (o.batch > 0)
			rc = shmring_read_batch(&r, on_msg, &c, o.batch, NULL, o.timeout_ms);
		else
			rc = shmring_read_fn(&r, on_msg, &c, o.timeout_ms);
		if (c.bad) return 1;
		if (rc) break;
	}
	printf("count %llu sum %llu sleeps %llu wakes %llu timeouts %llu\n", (unsigned long long)c.count,
	       (unsigned long long)c.sum, (unsigned long long)r.sleeps, (unsigned long long)r.wakes,
	       (unsigned long long)r.timeouts);
	if (rc != SHMRING_EOF) fail(&r, rc, "read");
	if (o.n && c.count != o.n) {
		printf("error got %llu messages, want %llu\n", (unsigned long long)c.count, (unsigned long long)o.n);
		return 1;
	}
	shmring_close(&r);
	return 0;
}
