/*
 * msg.h — the test message stream, byte for byte the Go package
 * ring/internal/ringmsg (see its doc for the definition), and the shared
 * plumbing of producer.c and consumer.c: option parsing and mapping the
 * memory (a System V segment by key, or a file / POSIX shm object by path).
 */
#ifndef RINGTEST_MSG_H
#define RINGTEST_MSG_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../ring.h"

static inline uint64_t msg_splitmix64(uint64_t x) {
	x += 0x9E3779B97F4A7C15ull;
	uint64_t z = x;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static inline void msg_spec(uint64_t seed, uint64_t i, uint32_t max, uint32_t *type, uint32_t *size, uint64_t *r) {
	uint64_t x = msg_splitmix64(seed + i * 0x9E3779B97F4A7C15ull), k = x >> 10, c = x % 1000;
	uint32_t s;
	if (c < 600) s = 12 + (uint32_t)(k % 53);
	else if (c < 900) s = 65 + (uint32_t)(k % 448);
	else if (c < 990) s = 513 + (uint32_t)(k % 3584);
	else s = 4097 + (uint32_t)(k % 4096);
	*size = s < max ? s : max;
	*type = (uint32_t)(x >> 40) & 0xffff;
	*r = x;
}

static inline uint64_t msg_le64(const unsigned char *p) {
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
	return v;
}
static inline void msg_put_le64(unsigned char *p, uint64_t v) {
	for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static inline uint32_t msg_le32(const unsigned char *p) { return (uint32_t)msg_le64((const unsigned char[8]){p[0], p[1], p[2], p[3]}); }

static inline uint32_t msg_checksum(const unsigned char *b, size_t n) {
	uint64_t h = 0xcbf29ce484222325ull;
	for (; n >= 8; b += 8, n -= 8) {
		h = (h ^ msg_le64(b)) * 0x100000001b3ull;
		h ^= h >> 32;
	}
	for (; n > 0; b++, n--) h = (h ^ *b) * 0x100000001b3ull;
	return (uint32_t)(h ^ (h >> 29));
}

static inline uint32_t msg_fill(unsigned char *b, uint32_t size, uint64_t i, uint64_t r) {
	msg_put_le64(b + 4, i);
	uint64_t x = r | 1;
	unsigned char *p = b + 12;
	size_t left = size - 12;
	while (left > 0) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		unsigned char w[8];
		msg_put_le64(w, x);
		size_t k = left < 8 ? left : 8;
		memcpy(p, w, k);
		p += k;
		left -= k;
	}
	uint32_t sum = msg_checksum(b + 4, size - 4);
	for (int k = 0; k < 4; k++) b[k] = (unsigned char)(sum >> (8 * k));
	return sum;
}

/* Options shared by producer and consumer. */
struct opts {
	long long key;      /* -k KEY (hex): System V segment */
	const char *path;   /* -f PATH: file or /dev/shm object */
	int init;           /* -i: format the ring first */
	uint64_t n;         /* -n N messages (producer: 0 = until killed) */
	uint64_t seed;      /* -s SEED */
	uint32_t max;       /* -m MAX message size */
	int peer_ms;        /* -p MS peer-check interval */
	long long stall;    /* -S K: stop after K messages (see each program) */
	int timeout_ms;     /* -t MS: timeout of each blocking call, -1 none */
	int nospin;         /* -z: sleep at once instead of spinning first */
	uint32_t batch;     /* -b K: write / read in batches of up to K messages */
};

static inline void parse_opts(int argc, char **argv, struct opts *o) {
	memset(o, 0, sizeof *o);
	o->key = -1;
	o->seed = 1;
	o->max = 8192;
	o->stall = -1;
	o->timeout_ms = -1;
	int c;
	while ((c = getopt(argc, argv, "k:f:in:s:m:p:S:t:zb:")) != -1) {
		switch (c) {
		case 'k': o->key = strtoll(optarg, NULL, 16); break;
		case 'f': o->path = optarg; break;
		case 'i': o->init = 1; break;
		case 'n': o->n = strtoull(optarg, NULL, 10); break;
		case 's': o->seed = strtoull(optarg, NULL, 10); break;
		case 'm': o->max = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'p': o->peer_ms = atoi(optarg); break;
		case 'S': o->stall = strtoll(optarg, NULL, 10); break;
		case 't': o->timeout_ms = atoi(optarg); break;
		case 'z': o->nospin = 1; break;
		case 'b': o->batch = (uint32_t)strtoul(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: %s (-k KEY | -f PATH) [-i] [-n N] [-s SEED] [-m MAX] [-p MS] [-S K] [-t MS] [-z] [-b K]\n", argv[0]);
			exit(2);
		}
	}
	if ((o->key < 0) == (o->path == NULL) || o->max < 12) {
		fprintf(stderr, "%s: need exactly one of -k and -f, and -m >= 12\n", argv[0]);
		exit(2);
	}
}

/* map_memory attaches the segment or maps the file, read-write. */
static inline void *map_memory(const struct opts *o, size_t *len) {
	if (o->path) {
		int fd = open(o->path, O_RDWR | O_CLOEXEC);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0) { perror(o->path); exit(1); }
		void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED) { perror("mmap"); exit(1); }
		close(fd);
		*len = (size_t)st.st_size;
		return p;
	}
	int id = shmget((key_t)o->key, 0, 0);
	struct shmid_ds ds;
	if (id < 0 || shmctl(id, IPC_STAT, &ds) < 0) { perror("shmget"); exit(1); }
	void *p = shmat(id, NULL, 0);
	if (p == (void *)-1) { perror("shmat"); exit(1); }
	*len = ds.shm_segsz;
	return p;
}

/* open_ring formats or attaches the ring in the memory. */
static inline void open_ring(const struct opts *o, struct shmring *r) {
	size_t len;
	void *mem = map_memory(o, &len);
	int rc = o->init ? shmring_init(r, mem, len) : shmring_attach_wait(r, mem, len, 30000);
	if (rc) {
		printf("error %s: %s\n", shmring_strerror(rc), r->detail ? r->detail : "");
		exit(1);
	}
	r->peer_check_ms = o->peer_ms;
	if (o->nospin) r->spin_loads = r->spin_yields = 0;
}

static inline void fail(struct shmring *r, int rc, const char *what) {
	if ((rc == SHMRING_ECORRUPT || rc == SHMRING_EINVAL) && r->detail)
		printf("error %s: %s: %s\n", shmring_strerror(rc), what, r->detail);
	else
		printf("error %s: %s\n", shmring_strerror(rc), what);
	fflush(stdout);
	exit(rc == SHMRING_EPEERDEAD ? 3 : 1);
}

#endif
