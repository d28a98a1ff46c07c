/*
 * stream: the C end of the streaming and latency benchmarks over a pipe or
 * a socket (inherited file descriptors). Messages are SIZE bytes; the first
 * 8 bytes carry the sequence number, which the receiver checks.
 *
 *   stream send FD SIZE COUNT          write COUNT messages
 *   stream recv FD SIZE COUNT          read COUNT messages; print elapsed ns
 *                                      from the first byte to the last
 *   stream ping RFD WFD SIZE COUNT     COUNT round trips; print ns per trip
 *   stream pong RFD WFD SIZE COUNT     echo COUNT messages
 *
 * and over the ring of ../../cring/ring.h in the memory of a memfd FD that
 * the benchmark formatted (two rings back to back for ping/pong; SPIN 1
 * spins instead of sleeping on the futex):
 *
 *   stream ringsend|ringrecv FD SIZE COUNT
 *   stream ringping|ringpong FD SIZE COUNT SPIN
 *
 * and with the batch calls (shmring_write_batch of BATCH messages,
 * shmring_read_batch of up to BATCH):
 *
 *   stream ringbsend|ringbrecv FD SIZE COUNT BATCH
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../cring/ring.h"

static double now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* message_buffer returns size zeroed bytes with the page after them
 * touched as well: a copy out of a buffer whose next page was never
 * touched is slower (see messageBuffer in ../internal/streamer/main.go). */
static unsigned char *message_buffer(size_t size) {
	unsigned char *b = calloc(1, size + 4096);
	if (!b) { perror("stream: calloc"); exit(1); }
	memset(b + size, 0xff, 4096);
	return b;
}

static void full_write(int fd, const char *p, size_t n) {
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0) { perror("stream: write"); exit(1); }
		p += w; n -= (size_t)w;
	}
}

static void full_read(int fd, char *p, size_t n) {
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r <= 0) { perror("stream: read"); exit(1); }
		p += r; n -= (size_t)r;
	}
}

static void ring_check(int rc, const char *what) {
	if (rc) { fprintf(stderr, "stream: %s: %s\n", what, shmring_strerror(rc)); exit(1); }
}

struct bcheck { long i; size_t size; double start; };

static int batch_check(void *arg, uint32_t type, const void *msg, uint32_t n) {
	struct bcheck *b = arg;
	uint64_t seq;
	(void)type;
	memcpy(&seq, msg, 8);
	if (n != b->size || seq != (uint64_t)b->i) { fprintf(stderr, "stream: message %ld has sequence %llu, %u bytes\n", b->i, (unsigned long long)seq, n); exit(1); }
	if (b->i == 0) b->start = now_ns(); /* timed from the first message, as ringrecv */
	b->i++;
	return 0;
}

/* ring_batch_main: ringbsend / ringbrecv. */
static int ring_batch_main(int argc, char **argv) {
	if (argc < 6) { fprintf(stderr, "usage: stream ringbsend|ringbrecv FD SIZE COUNT BATCH\n"); return 2; }
	int send = strcmp(argv[1], "ringbsend") == 0;
	int fd = atoi(argv[2]);
	size_t size = strtoul(argv[3], NULL, 0);
	long count = atol(argv[4]);
	size_t batch = strtoul(argv[5], NULL, 0);
	if (size < 8) size = 8;
	if (batch < 1) batch = 1;
	struct stat st;
	if (fstat(fd, &st) < 0) { perror("stream: fstat"); return 1; }
	unsigned char *mem = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) { perror("stream: mmap"); return 1; }
	struct shmring r;
	ring_check(shmring_attach(&r, mem, (size_t)st.st_size), "attach");
	if (send) {
		ring_check(shmring_producer(&r), "producer");
		/* The batch is made once; each round only numbers its messages. */
		unsigned char *bufs = message_buffer(batch * size);
		struct shmring_msg *msgs = calloc(batch, sizeof *msgs);
		for (size_t k = 0; k < batch; k++) msgs[k] = (struct shmring_msg){1, (uint32_t)size, bufs + k * size};
		for (long i = 0; i < count;) {
			size_t k = 0;
			for (; k < batch && i + (long)k < count; k++) {
				uint64_t seq = (uint64_t)(i + (long)k);
				memcpy(bufs + k * size, &seq, 8);
			}
			size_t written;
			ring_check(shmring_write_batch(&r, msgs, k, &written, -1), "write batch");
			i += (long)k;
		}
		free(bufs);
		free(msgs);
	} else {
		ring_check(shmring_consumer(&r), "consumer");
		struct bcheck b = {0, size, 0};
		while (b.i < count) ring_check(shmring_read_batch(&r, batch_check, &b, batch, NULL, -1), "read batch");
		printf("%.0f\n", now_ns() - b.start);
	}
	shmring_close(&r);
	munmap(mem, (size_t)st.st_size);
	return 0;
}

static int ring_main(int argc, char **argv) {
	if (argc < 5) { fprintf(stderr, "usage: stream ringMODE FD SIZE COUNT [SPIN]\n"); return 2; }
	const char *mode = argv[1];
	int fd = atoi(argv[2]);
	size_t size = strtoul(argv[3], NULL, 0);
	long count = atol(argv[4]);
	int spin = argc > 5 && strcmp(argv[5], "1") == 0;
	if (size < 8) size = 8;
	struct stat st;
	if (fstat(fd, &st) < 0) { perror("stream: fstat"); return 1; }
	unsigned char *mem = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) { perror("stream: mmap"); return 1; }
	size_t half = (size_t)st.st_size / 2;
	int send = strcmp(mode, "ringsend") == 0, recv = strcmp(mode, "ringrecv") == 0;
	int ping = strcmp(mode, "ringping") == 0, pong = strcmp(mode, "ringpong") == 0;
	unsigned char *in = NULL, *out = NULL;
	size_t inlen = half, outlen = half;
	if (send) { out = mem; outlen = (size_t)st.st_size; }
	else if (recv) { in = mem; inlen = (size_t)st.st_size; }
	else if (ping) { out = mem; in = mem + half; }
	else if (pong) { in = mem; out = mem + half; }
	else { fprintf(stderr, "stream: unknown mode %s\n", mode); return 2; }
	struct shmring p, c;
	if (out) {
		ring_check(shmring_attach(&p, out, outlen), "attach");
		ring_check(shmring_producer(&p), "producer");
		if (spin) { p.spin_loads = 1 << 30; p.spin_yields = 0; }
	}
	if (in) {
		ring_check(shmring_attach(&c, in, inlen), "attach");
		ring_check(shmring_consumer(&c), "consumer");
		if (spin) { c.spin_loads = 1 << 30; c.spin_yields = 0; }
	}
	unsigned char *buf = message_buffer(size);
	double start = 0;
	for (long i = 0; i < count; i++) {
		uint64_t seq = (uint64_t)i;
		if (ping && i == 0) start = now_ns();
		if (send || ping) {
			memcpy(buf, &seq, 8);
			ring_check(shmring_write(&p, 1, buf, (uint32_t)size, -1), "write");
		}
		if (recv || ping || pong) {
			uint32_t type;
			size_t n;
			ring_check(shmring_read(&c, &type, buf, size, &n, -1), "read");
			if (recv && i == 0) start = now_ns();
			memcpy(&seq, buf, 8);
			if (n != size || seq != (uint64_t)i) { fprintf(stderr, "stream: message %ld has sequence %llu, %zu bytes\n", i, (unsigned long long)seq, n); return 1; }
		}
		if (pong) ring_check(shmring_write(&p, 1, buf, (uint32_t)size, -1), "write");
	}
	if (recv) printf("%.0f\n", now_ns() - start);
	if (ping) printf("%.1f\n", (now_ns() - start) / count);
	if (out) shmring_close(&p);
	if (in) shmring_close(&c);
	munmap(mem, (size_t)st.st_size);
	free(buf);
	return 0;
}

int main(int argc, char **argv) {
	if (argc > 1 && strncmp(argv[1], "ringb", 5) == 0) return ring_batch_main(argc, argv);
	if (argc > 1 && strncmp(argv[1], "ring", 4) == 0) return ring_main(argc, argv);
	if (argc < 5) { fprintf(stderr, "usage: stream send|recv FD SIZE COUNT | ping|pong RFD WFD SIZE COUNT\n"); return 2; }
	const char *mode = argv[1];
	int ping = strcmp(mode, "ping") == 0, pong = strcmp(mode, "pong") == 0;
	int rfd = atoi(argv[2]), wfd = (ping || pong) ? atoi(argv[3]) : rfd;
	size_t size = strtoul(argv[(ping || pong) ? 4 : 3], NULL, 0);
	long count = atol(argv[(ping || pong) ? 5 : 4]);
	if (size < 8) size = 8;
	char *buf = (char *)message_buffer(size);
	double start = 0;
	for (long i = 0; i < count; i++) {
		uint64_t seq = (uint64_t)i;
		if (strcmp(mode, "send") == 0) {
			memcpy(buf, &seq, 8);
			full_write(wfd, buf, size);
		} else if (strcmp(mode, "recv") == 0) {
			full_read(rfd, buf, size);
			if (i == 0) start = now_ns();
			memcpy(&seq, buf, 8);
			if (seq != (uint64_t)i) { fprintf(stderr, "stream: message %ld has sequence %llu\n", i, (unsigned long long)seq); return 1; }
		} else if (ping) {
			if (i == 0) start = now_ns();
			memcpy(buf, &seq, 8);
			full_write(wfd, buf, size);
			full_read(rfd, buf, size);
		} else if (pong) {
			full_read(rfd, buf, size);
			full_write(wfd, buf, size);
		} else {
			fprintf(stderr, "stream: unknown mode %s\n", mode);
			return 2;
		}
	}
	if (strcmp(mode, "recv") == 0) printf("%.0f\n", now_ns() - start);
	if (ping) printf("%.1f\n", (now_ns() - start) / count);
	return 0;
}
