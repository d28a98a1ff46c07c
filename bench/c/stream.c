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
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
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

int main(int argc, char **argv) {
	if (argc < 5) { fprintf(stderr, "usage: stream send|recv FD SIZE COUNT | ping|pong RFD WFD SIZE COUNT\n"); return 2; }
	const char *mode = argv[1];
	int ping = strcmp(mode, "ping") == 0, pong = strcmp(mode, "pong") == 0;
	int rfd = atoi(argv[2]), wfd = (ping || pong) ? atoi(argv[3]) : rfd;
	size_t size = strtoul(argv[(ping || pong) ? 4 : 3], NULL, 0);
	long count = atol(argv[(ping || pong) ? 5 : 4]);
	if (size < 8) size = 8;
	char *buf = calloc(1, size);
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
