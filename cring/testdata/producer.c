/*
 * producer: streams the test messages (msg.h) into a ring.
 *
 *   producer (-k KEY | -f PATH) [-i] [-n N] [-s SEED] [-m MAX] [-p MS] [-S K] [-t MS] [-z] [-b K]
 *
 * Prints "ready" once it holds the producer role, then writes N messages
 * (N = 0: until killed) and closes the ring, and prints
 * "count N sum S sleeps A wakes B timeouts C". With -S K it writes K
 * messages, then claims message K and fills half of it without committing,
 * prints "stalled" and waits for stdin to close — the parent kills it there,
 * mid-write. With -b K it writes batches of K messages with
 * shmring_write_batch (N > 0, no -S). Exit 3 if the consumer died, 1 on
 * another error.
 */
#include "msg.h"

int main(int argc, char **argv) {
	struct opts o;
	struct shmring r;
	parse_opts(argc, argv, &o);
	setvbuf(stdout, NULL, _IOLBF, 0);
	open_ring(&o, &r);
	int rc = shmring_producer(&r);
	if (rc) fail(&r, rc, "taking the producer role");
	uint32_t max = o.max < shmring_max_message(&r) ? o.max : shmring_max_message(&r);
	printf("ready\n");
	uint64_t count = 0, sum = 0;
	if (o.batch > 0) {
		struct shmring_msg *msgs = calloc(o.batch, sizeof *msgs);
		unsigned char *bufs = malloc((size_t)o.batch * max);
		if (!msgs || !bufs) { perror("malloc"); return 1; }
		for (uint64_t i = 0; i < o.n;) {
			size_t k = 0;
			for (; k < o.batch && i + k < o.n; k++) {
				uint64_t x;
				unsigned char *b = bufs + k * (size_t)max;
				msg_spec(o.seed, i + k, max, &msgs[k].type, &msgs[k].len, &x);
				sum += msg_fill(b, msgs[k].len, i + k, x);
				msgs[k].data = b;
			}
			size_t written;
			if ((rc = shmring_write_batch(&r, msgs, k, &written, o.timeout_ms))) fail(&r, rc, "write batch");
			if (written != k) { printf("error wrote %zu of %zu\n", written, k); return 1; }
			i += k;
			count += k;
		}
		o.n = 0;
		o.stall = -1;
		goto done;
	}
	for (uint64_t i = 0; o.n == 0 || i < o.n; i++) {
		uint32_t type, size;
		uint64_t x;
		void *p;
		msg_spec(o.seed, i, max, &type, &size, &x);
		if ((rc = shmring_claim(&r, type, size, &p, o.timeout_ms))) fail(&r, rc, "claim");
		if (o.stall >= 0 && i == (uint64_t)o.stall) {
			unsigned char *b = p;
			msg_fill(b, size, i, x);
			memset(b + size / 2, 0xEE, size - size / 2); /* half-written */
			printf("stalled\n");
			char c;
			while (read(0, &c, 1) > 0) {}
			return 0;
		}
		sum += msg_fill(p, size, i, x);
		count++;
		if ((rc = shmring_commit(&r))) fail(&r, rc, "commit");
	}
done:
	shmring_close(&r);
	printf("count %llu sum %llu sleeps %llu wakes %llu timeouts %llu\n", (unsigned long long)count,
	       (unsigned long long)sum, (unsigned long long)r.sleeps, (unsigned long long)r.wakes,
	       (unsigned long long)r.timeouts);
	return 0;
}
