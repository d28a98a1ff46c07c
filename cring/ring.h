/*
 * ring.h — a single-producer/single-consumer message ring in shared memory,
 * header-only C11. The same byte layout and protocol as the Go package
 * github.com/shmmap/shmmap/ring, so a C process and a Go process can sit on
 * either end of one ring. The layout is documented in cring/README.md and
 * ring/LAYOUT.md; every offset below is part of it.
 *
 *   struct shmring r;
 *   shmring_init(&r, mem, len);            // format (one process), or
 *   shmring_attach_wait(&r, mem, len, -1); // validate (the other)
 *   shmring_producer(&r);                  // take a role
 *   shmring_write(&r, type, msg, n, -1);   // block while full (-1: no timeout)
 *   shmring_read(&r, &type, buf, sizeof buf, &n, -1);
 *   shmring_write_batch(&r, msgs, count, &written, -1); // one publish per batch
 *   shmring_read_batch(&r, fn, arg, 0, &count, -1);      // one free per batch
 *   shmring_close(&r);
 *
 * Every function returns 0 or a negative SHMRING_E* code;
 * shmring_strerror() names it. One struct shmring is one role in one
 * thread. Needs Linux (futex, pidfd_open) and a compiler with <stdatomic.h>
 * and lock-free 64-bit atomics. Compile with the default gnu dialect or
 * define _GNU_SOURCE (for syscall()).
 */
#ifndef SHMRING_H
#define SHMRING_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434 /* the same number on every architecture */
#endif

/* The layout. */
#define SHMRING_HEADER_SIZE 512u
#define SHMRING_RECORD_HEADER 8u
#define SHMRING_ALIGNMENT 8u
#define SHMRING_MIN_CAPACITY 64u
#define SHMRING_MAX_CAPACITY (1u << 30)
#define SHMRING_MAGIC 0x474E5253u /* "SRNG" little-endian */
#define SHMRING_VERSION 1u
#define SHMRING_PADDING_TYPE 0xFFFFFFFFu
#define SHMRING_OWNER_CLOSED 0xFFFFFFFFu

#define SHMRING_OFF_MAGIC 0x000         /* u32, written last by init; futex for attach_wait */
#define SHMRING_OFF_VERSION 0x004       /* u32 */
#define SHMRING_OFF_HEADER_LEN 0x008    /* u32 = SHMRING_HEADER_SIZE */
#define SHMRING_OFF_CAPACITY 0x00C      /* u32, power of two */
#define SHMRING_OFF_MAX_MSG 0x010       /* u32 = capacity - 8 */
#define SHMRING_OFF_PRODUCER_PID 0x040  /* u32: 0, pid, or SHMRING_OWNER_CLOSED */
#define SHMRING_OFF_CONSUMER_PID 0x044  /* u32: 0, pid, or SHMRING_OWNER_CLOSED */
#define SHMRING_OFF_TAIL 0x080          /* u64 producer position */
#define SHMRING_OFF_HEAD 0x100          /* u64 consumer position */
#define SHMRING_OFF_DATA_WAITERS 0x180  /* u32 futex: consumer sleeping */
#define SHMRING_OFF_SPACE_WAITERS 0x1C0 /* u32 futex: producer sleeping */
#define SHMRING_OFF_DATA SHMRING_HEADER_SIZE

/* Blocking: spin, then sleep; a sleeper re-checks its peer this often. */
#ifndef SHMRING_SPIN_LOADS
#define SHMRING_SPIN_LOADS 64
#endif
#ifndef SHMRING_SPIN_YIELDS
#define SHMRING_SPIN_YIELDS 16
#endif
#ifndef SHMRING_WAKE_SPIN_US
#define SHMRING_WAKE_SPIN_US 50
#endif
#ifndef SHMRING_PEER_CHECK_MS
#define SHMRING_PEER_CHECK_MS 50
#endif

enum {
	SHMRING_OK = 0,
	SHMRING_EFULL = -1,     /* no room now (try_*) */
	SHMRING_EEMPTY = -2,    /* no message now (try_*) */
	SHMRING_EPEERDEAD = -3, /* the other process died */
	SHMRING_ECORRUPT = -4,  /* bad header or record */
	SHMRING_ETOOLARGE = -5, /* message longer than max_message */
	SHMRING_ECLOSED = -6,   /* this side or (for a producer) the consumer closed */
	SHMRING_EOF = -7,       /* producer closed and everything read */
	SHMRING_EINUSE = -8,    /* another live process holds the role */
	SHMRING_ETIMEDOUT = -9, /* the timeout passed */
	SHMRING_ESHORTBUF = -10,/* message longer than the buffer (stays in the ring) */
	SHMRING_EINVAL = -11,   /* bad argument: size, alignment, reserved type, no role */
	SHMRING_ENOTREADY = -12,/* memory not initialised yet (attach) */
	SHMRING_ESYS = -13      /* a futex wait failed (errno says why: ENOSYS, EPERM, EFAULT) */
};

enum { SHMRING_ROLE_NONE, SHMRING_ROLE_PRODUCER, SHMRING_ROLE_CONSUMER };

struct shmring {
	unsigned char *base, *data;
	size_t len;
	uint32_t capacity;
	uint64_t mask;
	int role;
	uint64_t pos;     /* our position: tail (producer) or head (consumer) */
	uint64_t cache;   /* the other side's position last read: head (producer), tail (consumer) */
	uint64_t pending; /* producer: aligned size of the claimed record, 0 if none */
	int closed;
	int peer_check_ms; /* 0: SHMRING_PEER_CHECK_MS; < 0: no peer checks (peer in another PID namespace) */
	int spin_loads, spin_yields; /* re-checks before sleeping (set by init/attach to SHMRING_SPIN_*) */
	int wake_spin_us; /* spin through a woken peer's wake-up (SHMRING_WAKE_SPIN_US; 0: off), see shmring__block */
	int quick;        /* no spin through a wake-up went unanswered since a wait ended within the counted spin */
	const char *detail; /* what the last ECORRUPT/EINVAL was about */
	uint64_t sleeps, wakes, timeouts;
};

static inline _Atomic uint32_t *shmring__u32(const struct shmring *r, size_t off) {
	return (_Atomic uint32_t *)(void *)(r->base + off);
}
static inline _Atomic uint64_t *shmring__u64(const struct shmring *r, size_t off) {
	return (_Atomic uint64_t *)(void *)(r->base + off);
}
static inline uint64_t shmring__align(uint64_t n) { return (n + 7) & ~(uint64_t)7; }

static inline const char *shmring_strerror(int code) {
	switch (code) {
	case SHMRING_OK: return "ok";
	case SHMRING_EFULL: return "ring full";
	case SHMRING_EEMPTY: return "ring empty";
	case SHMRING_EPEERDEAD: return "peer process died";
	case SHMRING_ECORRUPT: return "ring corrupt";
	case SHMRING_ETOOLARGE: return "message too large";
	case SHMRING_ECLOSED: return "ring closed";
	case SHMRING_EOF: return "end of stream";
	case SHMRING_EINUSE: return "role already taken";
	case SHMRING_ETIMEDOUT: return "timed out";
	case SHMRING_ESHORTBUF: return "buffer too short";
	case SHMRING_EINVAL: return "invalid argument";
	case SHMRING_ENOTREADY: return "ring not initialised";
	case SHMRING_ESYS: return "futex wait failed";
	}
	return "unknown ring error";
}

/* shmring_size: the bytes a ring of this capacity needs. */
static inline size_t shmring_size(uint32_t capacity) { return SHMRING_HEADER_SIZE + (size_t)capacity; }

/* shmring_capacity_for: the capacity init picks for len bytes (0: too small). */
static inline uint32_t shmring_capacity_for(size_t len) {
	if (len < SHMRING_HEADER_SIZE + SHMRING_MIN_CAPACITY) return 0;
	size_t avail = len - SHMRING_HEADER_SIZE;
	if (avail > SHMRING_MAX_CAPACITY) avail = SHMRING_MAX_CAPACITY;
	uint32_t c = SHMRING_MIN_CAPACITY;
	while ((size_t)c * 2 <= avail) c *= 2;
	return c;
}

static inline uint32_t shmring_max_message(const struct shmring *r) { return r->capacity - SHMRING_RECORD_HEADER; }

static inline long shmring__futex(_Atomic uint32_t *w, int op, uint32_t val, const struct timespec *ts) {
	/* Not FUTEX_PRIVATE_FLAG: waiter and waker are different processes. */
	return syscall(SYS_futex, (uint32_t *)w, op, val, ts, NULL, 0);
}

/* shmring__wait: sleep while *w == val, at most ms (> 0). 0 when woken or
 * the value changed (EAGAIN, EINTR), 1 if it timed out, SHMRING_ESYS with
 * errno set for any other failure, so that no caller spins on a wait that
 * cannot sleep. */
static inline int shmring__wait(_Atomic uint32_t *w, uint32_t val, long ms) {
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	if (shmring__futex(w, FUTEX_WAIT, val, &ts) == 0) return 0;
	if (errno == EAGAIN || errno == EINTR) return 0;
	if (errno == ETIMEDOUT) return 1;
	return SHMRING_ESYS;
}

static inline void shmring__wake(_Atomic uint32_t *w, int n) { shmring__futex(w, FUTEX_WAKE, (uint32_t)n, NULL); }

/* shmring__now_ns: CLOCK_MONOTONIC in nanoseconds. */
static inline int64_t shmring__now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* shmring__last_wake_ns: when this program last woke a sleeping peer with
 * FUTEX_WAKE, shmring__now_ns; 0 if never. A weak definition, so that every
 * translation unit that includes this header shares one. */
__attribute__((weak)) _Atomic int64_t shmring__last_wake_ns;

static inline void shmring__view(struct shmring *r, void *mem, size_t len, uint32_t capacity) {
	memset(r, 0, sizeof *r);
	r->base = mem;
	r->data = r->base + SHMRING_OFF_DATA;
	r->len = len;
	r->capacity = capacity;
	r->mask = capacity - 1;
	r->spin_loads = SHMRING_SPIN_LOADS;
	r->spin_yields = SHMRING_SPIN_YIELDS;
	r->wake_spin_us = SHMRING_WAKE_SPIN_US;
}

static inline int shmring__check_positions(struct shmring *r, uint64_t head, uint64_t tail) {
	if (head % 8 || tail % 8 || tail - head > r->capacity) {
		r->detail = "consumer and producer positions are inconsistent";
		return SHMRING_ECORRUPT;
	}
	return SHMRING_OK;
}

/* shmring_init formats mem (8-byte aligned, len bytes) as an empty ring. */
static inline int shmring_init(struct shmring *r, void *mem, size_t len) {
	uint32_t c = shmring_capacity_for(len);
	if (!mem || ((uintptr_t)mem & 7) || c == 0) {
		memset(r, 0, sizeof *r);
		r->detail = c == 0 ? "memory too small for a ring" : "memory not 8-byte aligned";
		return SHMRING_EINVAL;
	}
	shmring__view(r, mem, len, c);
	atomic_store(shmring__u32(r, SHMRING_OFF_MAGIC), 0);
	memset(r->base + 4, 0, SHMRING_HEADER_SIZE - 4);
	*(uint32_t *)(void *)(r->base + SHMRING_OFF_VERSION) = SHMRING_VERSION;
	*(uint32_t *)(void *)(r->base + SHMRING_OFF_HEADER_LEN) = SHMRING_HEADER_SIZE;
	*(uint32_t *)(void *)(r->base + SHMRING_OFF_CAPACITY) = c;
	*(uint32_t *)(void *)(r->base + SHMRING_OFF_MAX_MSG) = c - SHMRING_RECORD_HEADER;
	atomic_store(shmring__u32(r, SHMRING_OFF_MAGIC), SHMRING_MAGIC); /* publishes the header */
	shmring__wake(shmring__u32(r, SHMRING_OFF_MAGIC), INT_MAX);
	return SHMRING_OK;
}

/* shmring_attach validates the ring in mem: ENOTREADY if never initialised,
 * ECORRUPT (r->detail says why) for a wrong magic, version, header size,
 * capacity, length or positions. */
static inline int shmring_attach(struct shmring *r, void *mem, size_t len) {
	memset(r, 0, sizeof *r);
	if (!mem || ((uintptr_t)mem & 7)) { r->detail = "memory not 8-byte aligned"; return SHMRING_EINVAL; }
	if (len < SHMRING_HEADER_SIZE) { r->detail = "memory shorter than the ring header"; return SHMRING_ECORRUPT; }
	unsigned char *b = mem;
	uint32_t magic = atomic_load((_Atomic uint32_t *)(void *)(b + SHMRING_OFF_MAGIC));
	if (magic == 0) { r->detail = "memory not initialised"; return SHMRING_ENOTREADY; }
	if (magic != SHMRING_MAGIC) { r->detail = "bad magic: not a ring"; return SHMRING_ECORRUPT; }
	if (*(uint32_t *)(void *)(b + SHMRING_OFF_VERSION) != SHMRING_VERSION) { r->detail = "unsupported layout version"; return SHMRING_ECORRUPT; }
	if (*(uint32_t *)(void *)(b + SHMRING_OFF_HEADER_LEN) != SHMRING_HEADER_SIZE) { r->detail = "bad header size"; return SHMRING_ECORRUPT; }
	uint32_t c = *(uint32_t *)(void *)(b + SHMRING_OFF_CAPACITY);
	if (c < SHMRING_MIN_CAPACITY || c > SHMRING_MAX_CAPACITY || (c & (c - 1))) { r->detail = "capacity not a power of two in range"; return SHMRING_ECORRUPT; }
	if (shmring_size(c) > len) { r->detail = "capacity larger than the memory"; return SHMRING_ECORRUPT; }
	if (*(uint32_t *)(void *)(b + SHMRING_OFF_MAX_MSG) != c - SHMRING_RECORD_HEADER) { r->detail = "bad max message"; return SHMRING_ECORRUPT; }
	shmring__view(r, mem, len, c);
	/* Both ends may be moving: read tail, head, tail again, so that head
	 * was read while tail had the value checked against it. */
	for (int i = 0; i < 100; i++) {
		uint64_t tail = atomic_load(shmring__u64(r, SHMRING_OFF_TAIL));
		uint64_t head = atomic_load(shmring__u64(r, SHMRING_OFF_HEAD));
		if (atomic_load(shmring__u64(r, SHMRING_OFF_TAIL)) == tail) return shmring__check_positions(r, head, tail);
	}
	return SHMRING_OK; /* never still: the role claim checks again */
}

static inline long shmring__ms_since(const struct timespec *t0) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000L + (t.tv_nsec - t0->tv_nsec) / 1000000L;
}

/* shmring__sleep_ms: how long to sleep, given a timeout (ms, -1 = none)
 * counted from t0; 0 when it has passed. */
static inline long shmring__sleep_ms(long every, int timeout_ms, const struct timespec *t0) {
	if (timeout_ms < 0) return every;
	long left = timeout_ms - shmring__ms_since(t0);
	if (left <= 0) return 0;
	return left < every ? left : every;
}

/* shmring_attach_wait: attach, sleeping on the magic word until another
 * process has run shmring_init (timeout_ms, -1 for none). */
static inline int shmring_attach_wait(struct shmring *r, void *mem, size_t len, int timeout_ms) {
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int rc = shmring_attach(r, mem, len);
		if (rc != SHMRING_ENOTREADY) return rc;
		long ms = shmring__sleep_ms(SHMRING_PEER_CHECK_MS, timeout_ms, &t0);
		if (ms == 0) return SHMRING_ETIMEDOUT;
		if (shmring__wait((_Atomic uint32_t *)mem, 0, ms) == SHMRING_ESYS) return SHMRING_ESYS;
	}
}

/* shmring_pid_dead: has pid exited? Zombies count as dead (a pidfd polls
 * readable at exit, before the parent reaps). */
static inline int shmring_pid_dead(uint32_t pid) {
	int fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
	if (fd >= 0) {
		struct pollfd p = {fd, POLLIN, 0};
		int n = poll(&p, 1, 0);
		close(fd);
		return n > 0;
	}
	if (errno == ESRCH) return 1;
	if (kill((pid_t)pid, 0) == -1 && errno == ESRCH) return 1;
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%u/stat", pid);
	int sfd = open(path, O_RDONLY | O_CLOEXEC);
	if (sfd < 0) return errno == ENOENT;
	ssize_t n = read(sfd, buf, sizeof buf - 1);
	close(sfd);
	if (n <= 0) return 0;
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

static inline int shmring__claim_role(struct shmring *r, size_t off) {
	_Atomic uint32_t *w = shmring__u32(r, off);
	uint32_t self = (uint32_t)getpid();
	for (int i = 0; i < 1000; i++) {
		uint32_t old = atomic_load(w);
		if (old != 0 && old != SHMRING_OWNER_CLOSED && (old == self || !shmring_pid_dead(old)))
			return SHMRING_EINUSE;
		if (atomic_compare_exchange_strong(w, &old, self)) return SHMRING_OK;
	}
	return SHMRING_EINUSE;
}

/* shmring_producer / shmring_consumer take a role: free, closed, or held by
 * a dead process; EINUSE otherwise. */
static inline int shmring_producer(struct shmring *r) {
	int rc = shmring__claim_role(r, SHMRING_OFF_PRODUCER_PID);
	if (rc) return rc;
	r->role = SHMRING_ROLE_PRODUCER;
	r->pos = atomic_load(shmring__u64(r, SHMRING_OFF_TAIL));
	r->cache = atomic_load(shmring__u64(r, SHMRING_OFF_HEAD));
	rc = shmring__check_positions(r, r->cache, r->pos);
	if (rc) { atomic_store(shmring__u32(r, SHMRING_OFF_PRODUCER_PID), 0); r->role = SHMRING_ROLE_NONE; }
	return rc;
}

static inline int shmring_consumer(struct shmring *r) {
	int rc = shmring__claim_role(r, SHMRING_OFF_CONSUMER_PID);
	if (rc) return rc;
	r->role = SHMRING_ROLE_CONSUMER;
	r->pos = atomic_load(shmring__u64(r, SHMRING_OFF_HEAD));
	r->cache = r->pos; /* the producer position, loaded when this says empty */
	rc = shmring__check_positions(r, r->pos, atomic_load(shmring__u64(r, SHMRING_OFF_TAIL)));
	if (rc) { atomic_store(shmring__u32(r, SHMRING_OFF_CONSUMER_PID), 0); r->role = SHMRING_ROLE_NONE; }
	return rc;
}

/* shmring__wake_if: after publishing our position (seq_cst store), wake the
 * other side if it announced a sleep on w. It stores 1 before re-checking
 * our position, so one of us sees the other's store: no lost wake-up. */
static inline void shmring__wake_if(struct shmring *r, size_t off) {
	_Atomic uint32_t *w = shmring__u32(r, off);
	if (atomic_load(w) != 0 && atomic_exchange(w, 0) != 0) {
		shmring__wake(w, 1);
		atomic_store_explicit(&shmring__last_wake_ns, shmring__now_ns(), memory_order_relaxed);
		r->wakes++;
	}
}

/* shmring__flush publishes every record before our position. */
static inline void shmring__flush(struct shmring *r) {
	atomic_store(shmring__u64(r, SHMRING_OFF_TAIL), r->pos);
	shmring__wake_if(r, SHMRING_OFF_DATA_WAITERS);
}

static inline int shmring__room(struct shmring *r, uint64_t need) {
	if (r->pos + need - r->cache <= r->capacity) return SHMRING_OK;
	uint64_t head = atomic_load(shmring__u64(r, SHMRING_OFF_HEAD));
	int rc = shmring__check_positions(r, head, r->pos);
	if (rc) return rc;
	r->cache = head;
	return r->pos + need - head <= r->capacity ? SHMRING_OK : SHMRING_EFULL;
}

static inline void shmring__put_header(unsigned char *p, uint32_t len, uint32_t type) {
	memcpy(p, &len, 4);
	memcpy(p + 4, &type, 4);
}

/* shmring_try_claim reserves room for an n-byte message and points *out at
 * it (zero-copy); shmring_commit publishes it. EFULL if no room now. */
static inline int shmring_try_claim(struct shmring *r, uint32_t type, uint32_t n, void **out) {
	if (r->role != SHMRING_ROLE_PRODUCER) { r->detail = "not the producer"; return SHMRING_EINVAL; }
	if (r->closed) return SHMRING_ECLOSED;
	if (r->pending) { r->detail = "a claimed record is not committed"; return SHMRING_EINVAL; }
	if (type == SHMRING_PADDING_TYPE) { r->detail = "type reserved for padding"; return SHMRING_EINVAL; }
	if (n > shmring_max_message(r)) return SHMRING_ETOOLARGE;
	if (atomic_load(shmring__u32(r, SHMRING_OFF_CONSUMER_PID)) == SHMRING_OWNER_CLOSED) return SHMRING_ECLOSED;
	uint64_t rec = SHMRING_RECORD_HEADER + (uint64_t)n, need = shmring__align(rec);
	uint64_t idx = r->pos & r->mask, to_end = r->capacity - idx;
	int rc;
	if (need > to_end) {
		/* Pad to the end. If the record does not fit at the start either,
		 * the padding is published on its own, so that a record as large
		 * as the ring only needs the ring to drain. */
		if ((rc = shmring__room(r, to_end))) return rc;
		shmring__put_header(r->data + idx, (uint32_t)to_end, SHMRING_PADDING_TYPE);
		r->pos += to_end;
		idx = 0;
		if ((rc = shmring__room(r, need))) { shmring__flush(r); return rc; }
	} else if ((rc = shmring__room(r, need))) return rc;
	shmring__put_header(r->data + idx, (uint32_t)rec, type);
	r->pending = need;
	*out = r->data + idx + SHMRING_RECORD_HEADER;
	return SHMRING_OK;
}

static inline int shmring_commit(struct shmring *r) {
	if (r->closed) { r->pending = 0; return SHMRING_ECLOSED; }
	if (r->role != SHMRING_ROLE_PRODUCER) { r->detail = "not the producer"; return SHMRING_EINVAL; }
	if (!r->pending) { r->detail = "nothing claimed"; return SHMRING_EINVAL; }
	r->pos += r->pending;
	r->pending = 0;
	shmring__flush(r);
	return SHMRING_OK;
}

static inline void shmring_abort(struct shmring *r) { r->pending = 0; }

static inline int shmring_try_write(struct shmring *r, uint32_t type, const void *msg, uint32_t n) {
	void *p;
	int rc = shmring_try_claim(r, type, n, &p);
	if (rc) return rc;
	if (n) memcpy(p, msg, n);
	return shmring_commit(r);
}

/* shmring_try_read_fn: the next message in place. fn returns 0 to consume
 * it; anything else leaves it in the ring and is returned. EEMPTY if none
 * now, EOF once the producer has closed and everything has been read. fn
 * must not return SHMRING_EFULL or SHMRING_EEMPTY: the blocking
 * shmring_read_fn would take them for "nothing yet" and wait again. */
typedef int (*shmring_fn)(void *arg, uint32_t type, const void *msg, uint32_t n);

static inline void shmring__advance(struct shmring *r, uint64_t n) {
	r->pos += n;
	atomic_store(shmring__u64(r, SHMRING_OFF_HEAD), r->pos);
	shmring__wake_if(r, SHMRING_OFF_SPACE_WAITERS);
}

/* shmring__peek: the next message in place (*type, *msg, *n) and the
 * consumer position after it (*next), padding before it skipped — and
 * freed at once, unless lazy (a batch frees everything at its end).
 * Loads the producer position only when the cached one says empty. */
static inline int shmring__peek(struct shmring *r, int lazy, uint32_t *type, const void **msg, uint32_t *n, uint64_t *next) {
	for (int k = 0; k < 3; k++) {
		if (r->cache == r->pos) {
			/* The cached producer position says empty: load it. */
			uint64_t tail = atomic_load(shmring__u64(r, SHMRING_OFF_TAIL));
			if (tail == r->pos) {
				if (atomic_load(shmring__u32(r, SHMRING_OFF_PRODUCER_PID)) != SHMRING_OWNER_CLOSED) return SHMRING_EEMPTY;
				if (atomic_load(shmring__u64(r, SHMRING_OFF_TAIL)) != r->pos) continue;
				return SHMRING_EOF;
			}
			int rc = shmring__check_positions(r, r->pos, tail);
			if (rc) return rc;
			r->cache = tail;
		}
		uint64_t avail = r->cache - r->pos;
		uint64_t idx = r->pos & r->mask;
		uint32_t len32, t;
		memcpy(&len32, r->data + idx, 4);
		memcpy(&t, r->data + idx + 4, 4);
		uint64_t len = len32;
		if (t == SHMRING_PADDING_TYPE) {
			if (idx == 0 || len != r->capacity - idx || len > avail) { r->detail = "bad padding record"; return SHMRING_ECORRUPT; }
			if (lazy) r->pos += len;
			else shmring__advance(r, len);
			continue;
		}
		if (len < SHMRING_RECORD_HEADER || shmring__align(len) > r->capacity - idx || shmring__align(len) > avail) {
			r->detail = "record length past the end";
			return SHMRING_ECORRUPT;
		}
		*type = t;
		*msg = r->data + idx + SHMRING_RECORD_HEADER;
		*n = (uint32_t)(len - SHMRING_RECORD_HEADER);
		*next = r->pos + shmring__align(len);
		return SHMRING_OK;
	}
	r->detail = "two padding records in a row";
	return SHMRING_ECORRUPT;
}

static inline int shmring_try_read_fn(struct shmring *r, shmring_fn fn, void *arg) {
	if (r->role != SHMRING_ROLE_CONSUMER) { r->detail = "not the consumer"; return SHMRING_EINVAL; }
	if (r->closed) return SHMRING_ECLOSED;
	uint32_t type, n;
	const void *msg;
	uint64_t next, avail = r->cache - r->pos;
	int rc;
	if (avail) {
		/* The common case in line: a message the cached producer position
		 * covers, whose header fits the ring. */
		uint64_t idx = r->pos & r->mask;
		uint32_t len32;
		memcpy(&len32, r->data + idx, 4);
		memcpy(&type, r->data + idx + 4, 4);
		uint64_t len = len32, padded = shmring__align(len);
		if (type != SHMRING_PADDING_TYPE && len >= SHMRING_RECORD_HEADER && padded <= r->capacity - idx && padded <= avail) {
			msg = r->data + idx + SHMRING_RECORD_HEADER;
			n = (uint32_t)(len - SHMRING_RECORD_HEADER);
			next = r->pos + padded;
			goto found;
		}
	}
	if ((rc = shmring__peek(r, 0, &type, &msg, &n, &next))) return rc;
found:
	if ((rc = fn(arg, type, msg, n))) return rc;
	shmring__advance(r, next - r->pos);
	return SHMRING_OK;
}

/* shmring_try_read_batch calls fn with each message already published, in
 * order and in place, at most max of them (0: no limit), and frees them
 * together at the end: one store of the consumer position (and at most one
 * wake of the producer) for the whole batch. *count (if not NULL) says how
 * many fn took. If fn returns non-zero, the messages before are consumed,
 * that one stays, and its code is returned. EEMPTY (or EOF once the
 * producer has closed and everything has been read) only when there was no
 * message. A batch also reads what the producer publishes meanwhile; since
 * nothing is freed before its end, it holds at most a ring's worth. */
static inline int shmring_try_read_batch(struct shmring *r, shmring_fn fn, void *arg, size_t max, size_t *count) {
	size_t k = 0;
	int rc = SHMRING_OK;
	if (count) *count = 0;
	if (r->role != SHMRING_ROLE_CONSUMER) { r->detail = "not the consumer"; return SHMRING_EINVAL; }
	if (r->closed) return SHMRING_ECLOSED;
	uint64_t start = r->pos;
	while (max == 0 || k < max) {
		uint32_t type, n;
		const void *msg;
		uint64_t next;
		int prc = shmring__peek(r, 1, &type, &msg, &n, &next);
		if (prc) {
			if (k == 0 || (prc != SHMRING_EEMPTY && prc != SHMRING_EOF)) rc = prc;
			break;
		}
		if ((rc = fn(arg, type, msg, n))) break;
		r->pos = next;
		k++;
	}
	if (r->pos != start) {
		uint64_t end = r->pos;
		r->pos = start;
		shmring__advance(r, end - start);
	}
	if (count) *count = k;
	return rc;
}

struct shmring__copy { void *buf; size_t cap; uint32_t *type; size_t *n; };

static inline int shmring__copy_fn(void *arg, uint32_t type, const void *msg, uint32_t n) {
	struct shmring__copy *c = arg;
	*c->type = type;
	*c->n = n;
	if (n > c->cap) return SHMRING_ESHORTBUF;
	if (n) memcpy(c->buf, msg, n);
	return 0;
}

/* shmring_try_read copies the next message into buf (cap bytes); ESHORTBUF
 * leaves it in the ring with *n set to its length. */
static inline int shmring_try_read(struct shmring *r, uint32_t *type, void *buf, size_t cap, size_t *n) {
	struct shmring__copy c = {buf, cap, type, n};
	return shmring_try_read_fn(r, shmring__copy_fn, &c);
}

static inline int shmring__peer_alive(struct shmring *r, size_t peer_off) {
	uint32_t pid = atomic_load(shmring__u32(r, peer_off));
	if (pid == 0 || pid == SHMRING_OWNER_CLOSED) return SHMRING_OK;
	return shmring_pid_dead(pid) ? SHMRING_EPEERDEAD : SHMRING_OK;
}

/* shmring__block: the slow path shared by the blocking calls. try returns
 * EFULL/EEMPTY for "not yet".
 *
 * After the counted spin, a call keeps spinning (sched_yield) until
 * wake_spin_us (at most timeout_ms) have passed since this program last
 * woke a sleeping peer, unless its last such spin went unanswered (quick
 * 0; a wait that ends within the counted spin sets quick again): in request/response, that peer is
 * most likely the one whose answer the call waits for, and it cannot
 * answer before it has woken up (on a virtual machine whose other CPU went
 * idle, tens of microseconds). Sleeping meanwhile would make the peer wake
 * us in turn, and each side would then sleep through the other's wake-up
 * round trip after round trip. A peer that does not answer within the
 * spin clears quick, so a slow peer costs one such spin, not one per wait.
 * The Go ring does the same (package ring, "Spinning through a wake-up"). */
typedef int (*shmring__try)(struct shmring *r, void *arg);

static inline int shmring__block(struct shmring *r, size_t word_off, size_t peer_off, int timeout_ms, shmring__try try, void *arg) {
	int rc;
	for (int i = 0; i < r->spin_loads + r->spin_yields; i++) {
		rc = try(r, arg);
		if (rc != SHMRING_EFULL && rc != SHMRING_EEMPTY) { r->quick = 1; return rc; }
		if (i >= r->spin_loads) sched_yield();
#if defined(__x86_64__) || defined(__i386__)
		else __builtin_ia32_pause();
#endif
	}
	struct timespec t0, last;
	clock_gettime(CLOCK_MONOTONIC, &t0); /* timeout_ms counts from here, the spin below included */
	int64_t now = (int64_t)t0.tv_sec * 1000000000 + t0.tv_nsec;
	int64_t woke = atomic_load_explicit(&shmring__last_wake_ns, memory_order_relaxed);
	int64_t end = woke + (int64_t)r->wake_spin_us * 1000;
	if (timeout_ms >= 0 && now + (int64_t)timeout_ms * 1000000 < end) end = now + (int64_t)timeout_ms * 1000000;
	if (r->spin_loads + r->spin_yields > 0 && r->quick && woke != 0 && now < end) {
		while (shmring__now_ns() < end) {
			rc = try(r, arg);
			if (rc != SHMRING_EFULL && rc != SHMRING_EEMPTY) return rc;
			sched_yield();
		}
		r->quick = 0;
	}
	_Atomic uint32_t *w = shmring__u32(r, word_off);
	int check = r->peer_check_ms >= 0;
	long every = r->peer_check_ms > 0 ? r->peer_check_ms : r->peer_check_ms < 0 ? 3600000L : SHMRING_PEER_CHECK_MS;
	last = t0;
	for (;;) {
		atomic_store(w, 1); /* announce the sleep, then re-check (see wake_if) */
		rc = try(r, arg);
		if (rc != SHMRING_EFULL && rc != SHMRING_EEMPTY) break;
		if (check && shmring__ms_since(&last) >= every) {
			if ((rc = shmring__peer_alive(r, peer_off))) {
				int rc2 = try(r, arg); /* it may have published just before dying */
				if (rc2 != SHMRING_EFULL && rc2 != SHMRING_EEMPTY) rc = rc2;
				break;
			}
			clock_gettime(CLOCK_MONOTONIC, &last);
		}
		long ms = shmring__sleep_ms(every, timeout_ms, &t0);
		if (ms == 0) { rc = SHMRING_ETIMEDOUT; break; }
		r->sleeps++;
		int wr = shmring__wait(w, 1, ms);
		if (wr == SHMRING_ESYS) { rc = SHMRING_ESYS; break; }
		if (wr) r->timeouts++;
	}
	atomic_store(w, 0);
	return rc;
}

struct shmring__claim_args { uint32_t type, n; void **out; };

static inline int shmring__try_claim_cb(struct shmring *r, void *arg) {
	struct shmring__claim_args *a = arg;
	return shmring_try_claim(r, a->type, a->n, a->out);
}

/* shmring_claim: try_claim, waiting while full (timeout_ms, -1 for none);
 * EPEERDEAD if the consumer dies meanwhile. */
static inline int shmring_claim(struct shmring *r, uint32_t type, uint32_t n, void **out, int timeout_ms) {
	struct shmring__claim_args a = {type, n, out};
	int rc = shmring_try_claim(r, type, n, out);
	if (rc != SHMRING_EFULL) return rc;
	return shmring__block(r, SHMRING_OFF_SPACE_WAITERS, SHMRING_OFF_CONSUMER_PID, timeout_ms, shmring__try_claim_cb, &a);
}

static inline int shmring_write(struct shmring *r, uint32_t type, const void *msg, uint32_t n, int timeout_ms) {
	void *p;
	int rc = shmring_claim(r, type, n, &p, timeout_ms);
	if (rc) return rc;
	if (n) memcpy(p, msg, n);
	return shmring_commit(r);
}

/* One message of a batch. */
struct shmring_msg {
	uint32_t type;
	uint32_t len;
	const void *data;
};

/* shmring__write_batch: claim and fill one record after another, moving
 * our position without publishing it; publish before waiting (timeout_ms
 * != -2, counted for the whole batch) and at the end. */
static inline int shmring__write_batch(struct shmring *r, const struct shmring_msg *msgs, size_t count, size_t *written, int timeout_ms) {
	struct timespec t0;
	if (timeout_ms >= 0) clock_gettime(CLOCK_MONOTONIC, &t0);
	uint64_t published = r->pos;
	size_t k = 0;
	int rc = SHMRING_OK;
	for (; k < count; k++) {
		void *p;
		rc = shmring_try_claim(r, msgs[k].type, msgs[k].len, &p);
		if (rc == SHMRING_EFULL && timeout_ms != -2) {
			if (r->pos != published) { shmring__flush(r); published = r->pos; }
			int left = timeout_ms;
			if (timeout_ms >= 0) {
				long ms = timeout_ms - shmring__ms_since(&t0);
				left = ms > 0 ? (int)ms : 0;
			}
			rc = shmring_claim(r, msgs[k].type, msgs[k].len, &p, left);
		}
		if (rc) break;
		if (msgs[k].len) memcpy(p, msgs[k].data, msgs[k].len);
		r->pos += r->pending;
		r->pending = 0;
	}
	if (r->pos != published) shmring__flush(r);
	if (written) *written = k;
	return rc;
}

/* shmring_try_write_batch writes as many of the count messages as fit now,
 * in order, and publishes them together: one store of the producer
 * position (and at most one wake of the consumer) for the whole batch.
 * *written (if not NULL) says how many; 0 is returned only if that is all
 * of them, else EFULL (the ring filled first) or the error of the message
 * that failed (ETOOLARGE, EINVAL, ECLOSED); those before it are written. */
static inline int shmring_try_write_batch(struct shmring *r, const struct shmring_msg *msgs, size_t count, size_t *written) {
	return shmring__write_batch(r, msgs, count, written, -2);
}

/* shmring_write_batch writes all count messages, waiting for room as
 * shmring_write does (timeout_ms for the whole batch, -1 for none). It
 * publishes what it has written whenever it must wait, and at the end. */
static inline int shmring_write_batch(struct shmring *r, const struct shmring_msg *msgs, size_t count, size_t *written, int timeout_ms) {
	return shmring__write_batch(r, msgs, count, written, timeout_ms < 0 ? -1 : timeout_ms);
}

struct shmring__read_args { shmring_fn fn; void *arg; };

static inline int shmring__try_read_cb(struct shmring *r, void *arg) {
	struct shmring__read_args *a = arg;
	return shmring_try_read_fn(r, a->fn, a->arg);
}

/* shmring_read_fn / shmring_read: wait while empty (timeout_ms, -1 for
 * none); EOF at the clean end, EPEERDEAD if the producer died. */
static inline int shmring_read_fn(struct shmring *r, shmring_fn fn, void *arg, int timeout_ms) {
	struct shmring__read_args a = {fn, arg};
	int rc = shmring_try_read_fn(r, fn, arg);
	if (rc != SHMRING_EEMPTY) return rc;
	return shmring__block(r, SHMRING_OFF_DATA_WAITERS, SHMRING_OFF_PRODUCER_PID, timeout_ms, shmring__try_read_cb, &a);
}

static inline int shmring_read(struct shmring *r, uint32_t *type, void *buf, size_t cap, size_t *n, int timeout_ms) {
	struct shmring__copy c = {buf, cap, type, n};
	return shmring_read_fn(r, shmring__copy_fn, &c, timeout_ms);
}

struct shmring__batch_args { shmring_fn fn; void *arg; size_t max, *count; };

static inline int shmring__try_batch_cb(struct shmring *r, void *arg) {
	struct shmring__batch_args *a = arg;
	return shmring_try_read_batch(r, a->fn, a->arg, a->max, a->count);
}

/* shmring_read_batch: shmring_try_read_batch that waits while the ring is
 * empty (timeout_ms, -1 for none): at least one message, EOF at the clean
 * end, EPEERDEAD if the producer died. */
static inline int shmring_read_batch(struct shmring *r, shmring_fn fn, void *arg, size_t max, size_t *count, int timeout_ms) {
	struct shmring__batch_args a = {fn, arg, max, count};
	int rc = shmring_try_read_batch(r, fn, arg, max, count);
	if (rc != SHMRING_EEMPTY) return rc;
	return shmring__block(r, SHMRING_OFF_DATA_WAITERS, SHMRING_OFF_PRODUCER_PID, timeout_ms, shmring__try_batch_cb, &a);
}

/* shmring_close gives up the role and marks this side closed: the consumer
 * then reads to EOF; the producer's writes fail with ECLOSED. It wakes the
 * other side. It never unmaps the memory. */
static inline int shmring_close(struct shmring *r) {
	if (r->closed || r->role == SHMRING_ROLE_NONE) return SHMRING_ECLOSED;
	r->closed = 1;
	r->pending = 0; /* a claimed record is dropped, as in Go */
	atomic_store(shmring__u32(r, r->role == SHMRING_ROLE_PRODUCER ? SHMRING_OFF_PRODUCER_PID : SHMRING_OFF_CONSUMER_PID), SHMRING_OWNER_CLOSED);
	size_t words[2] = {SHMRING_OFF_DATA_WAITERS, SHMRING_OFF_SPACE_WAITERS};
	for (int i = 0; i < 2; i++) {
		atomic_store(shmring__u32(r, words[i]), 0);
		shmring__wake(shmring__u32(r, words[i]), INT_MAX);
	}
	return SHMRING_OK;
}

#endif /* SHMRING_H */
