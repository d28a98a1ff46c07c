/*
 * fixture: the C side of the safe-API cross-process tests
 * (api_compat_test.go). Like peer.c it obeys one command per line on stdin
 * and answers each with exactly one line on stdout, "ok ..." or
 * "err ERRNO", so the Go side orders every step by waiting for the answer
 * (no sleeps). It holds at most one piece of memory at a time (a System V
 * attachment or a shared mapping), which write, read and the record
 * commands use; attaching or mapping again releases the previous one.
 *
 *   ftok PATH PROJ          ftok(PATH, PROJ)                          -> ok KEY
 *   shmgetftok PATH PROJ    shmget(ftok(PATH, PROJ), 0, 0)            -> ok KEY ID SIZE
 *   shmcreate KEY SIZE      shmget(KEY, SIZE, IPC_CREAT|IPC_EXCL|0600) -> ok ID
 *   shmat ID                shmat(ID, NULL, 0)                        -> ok SIZE
 *   shmdt                   shmdt the attachment                      -> ok
 *   shmstat ID              shmctl(ID, IPC_STAT)    -> ok key=K id=I size=S mode=0OOO uid=U gid=G
 *                                                      cuid=U cgid=G cpid=P lpid=P nattch=N
 *                                                      atime=T dtime=T ctime=T
 *   mapfd FD                mmap all of FD (fstat) MAP_SHARED         -> ok SIZE READLINK
 *   memfd NAME SIZE         memfd_create + ftruncate + mmap MAP_SHARED -> ok /proc/PID/fd/FD
 *   shmopen NAME open       shm_open(NAME, O_RDWR) + mmap all of it   -> ok SIZE
 *   shmopen NAME create SIZE  shm_open(NAME, O_RDWR|O_CREAT|O_EXCL, 0600)
 *                           + ftruncate + mmap                        -> ok SIZE
 *   truncate PATH LEN       truncate the file to LEN (open + ftruncate) -> ok
 *   write OFF HEX           copy the bytes into the memory            -> ok
 *   read OFF LEN            the bytes at OFF                          -> ok HEX
 *   layout                  offsetof and sizeof of struct record      -> ok size=N a=OFF:SIZE ...
 *   record-write            store a struct record at offset 0         -> ok a=.. b=.. ... g=..
 *   record-read             the struct record at offset 0             -> ok a=.. b=.. ... g=..
 *   quit                    exit 0
 *
 * Numbers are decimal, except the mode (octal with a leading 0); keys are
 * C's key_t, so negative for a project id of 0x80 and above. Floating-point
 * values are printed with enough digits to round-trip (%.17g, %.9g).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

/* A struct with mixed field types under the ABI's natural alignment. */
struct record {
	int8_t a;
	/* padding: b is 2-aligned */
	int16_t b;
	int32_t c;
	int64_t d;
	double e;
	float f;
	char name[13];
	/* padding: g is 8-aligned (4-aligned on i386) */
	uint64_t g;
};

static unsigned char *mem;
static size_t memlen;
static int attached; /* mem is a System V attachment, else a mapping */

static void release(void) {
	if (mem) {
		if (attached) shmdt(mem);
		else if (memlen > 0) munmap(mem, memlen);
	}
	mem = NULL;
	memlen = 0;
	attached = 0;
}

static int fail(void) {
	printf("err %d\n", errno);
	return 0;
}

/* map replaces the memory with all of fd, MAP_SHARED; it returns 0 and
 * sets errno on failure. */
static int map(int fd) {
	struct stat st;
	void *p;
	if (fstat(fd, &st) < 0) return 0;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) return 0;
	release();
	mem = p;
	memlen = (size_t)st.st_size;
	return 1;
}

static void print_record(const struct record *r) {
	printf("ok a=%d b=%d c=%d d=%lld e=%.17g f=%.9g name=", r->a, r->b, r->c, (long long)r->d, r->e, (double)r->f);
	for (size_t i = 0; i < sizeof r->name; i++) printf("%02x", (unsigned char)r->name[i]);
	printf(" g=%llu\n", (unsigned long long)r->g);
}

int main(void) {
	char line[8192], arg[4096], word[64];
	long long n1, n2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof line, stdin)) {
		if (sscanf(line, "ftok %4095s %lld", arg, &n1) == 2) {
			key_t k = ftok(arg, (int)n1);
			if (k == -1) { fail(); continue; }
			printf("ok %d\n", (int)k);
		} else if (sscanf(line, "shmgetftok %4095s %lld", arg, &n1) == 2) {
			struct shmid_ds ds;
			key_t k = ftok(arg, (int)n1);
			int id = k == -1 ? -1 : shmget(k, 0, 0);
			if (id < 0 || shmctl(id, IPC_STAT, &ds) < 0) { fail(); continue; }
			printf("ok %d %d %zu\n", (int)k, id, (size_t)ds.shm_segsz);
		} else if (sscanf(line, "shmcreate %lld %lld", &n1, &n2) == 2) {
			int id = shmget((key_t)n1, (size_t)n2, IPC_CREAT | IPC_EXCL | 0600);
			if (id < 0) { fail(); continue; }
			printf("ok %d\n", id);
		} else if (sscanf(line, "shmat %lld", &n1) == 1) {
			struct shmid_ds ds;
			void *p = shmat((int)n1, NULL, 0);
			if (p == (void *)-1) { fail(); continue; }
			if (shmctl((int)n1, IPC_STAT, &ds) < 0) { int e = errno; shmdt(p); errno = e; fail(); continue; }
			release();
			mem = p;
			memlen = ds.shm_segsz;
			attached = 1;
			printf("ok %zu\n", memlen);
		} else if (strcmp(line, "shmdt\n") == 0) {
			if (!mem || !attached) { errno = EINVAL; fail(); continue; }
			if (shmdt(mem) < 0) { fail(); continue; }
			mem = NULL; memlen = 0; attached = 0;
			printf("ok\n");
		} else if (sscanf(line, "shmstat %lld", &n1) == 1) {
			struct shmid_ds ds;
			if (shmctl((int)n1, IPC_STAT, &ds) < 0) { fail(); continue; }
			printf("ok key=%d id=%d size=%zu mode=%#o uid=%u gid=%u cuid=%u cgid=%u cpid=%d lpid=%d "
			       "nattch=%lu atime=%lld dtime=%lld ctime=%lld\n",
			       (int)ds.shm_perm.__key, (int)n1, (size_t)ds.shm_segsz, (unsigned)ds.shm_perm.mode,
			       (unsigned)ds.shm_perm.uid, (unsigned)ds.shm_perm.gid, (unsigned)ds.shm_perm.cuid,
			       (unsigned)ds.shm_perm.cgid, (int)ds.shm_cpid, (int)ds.shm_lpid, (unsigned long)ds.shm_nattch,
			       (long long)ds.shm_atime, (long long)ds.shm_dtime, (long long)ds.shm_ctime);
		} else if (sscanf(line, "mapfd %lld", &n1) == 1) {
			char link[4096], proc[64];
			ssize_t n;
			snprintf(proc, sizeof proc, "/proc/self/fd/%d", (int)n1);
			n = readlink(proc, link, sizeof link - 1);
			if (n < 0 || !map((int)n1)) { fail(); continue; }
			link[n] = '\0';
			printf("ok %zu %s\n", memlen, link);
		} else if (sscanf(line, "memfd %4095s %lld", arg, &n1) == 2) {
			int fd = memfd_create(arg, 0);
			if (fd < 0) { fail(); continue; }
			if (ftruncate(fd, (off_t)n1) < 0 || !map(fd)) { int e = errno; close(fd); errno = e; fail(); continue; }
			/* The descriptor stays open, so the other side can open it
			 * through /proc. */
			printf("ok /proc/%d/fd/%d\n", (int)getpid(), fd);
		} else if (sscanf(line, "shmopen %4095s %63s %lld", arg, word, &n1) >= 2) {
			int create = strcmp(word, "create") == 0;
			int fd;
			if (!create && strcmp(word, "open") != 0) { errno = EINVAL; fail(); continue; }
			fd = shm_open(arg, create ? O_RDWR | O_CREAT | O_EXCL : O_RDWR, 0600);
			if (fd < 0) { fail(); continue; }
			if ((create && ftruncate(fd, (off_t)n1) < 0) || !map(fd)) { int e = errno; close(fd); errno = e; fail(); continue; }
			close(fd);
			printf("ok %zu\n", memlen);
		} else if (sscanf(line, "truncate %4095s %lld", arg, &n1) == 2) {
			int fd = open(arg, O_WRONLY);
			if (fd < 0 || ftruncate(fd, (off_t)n1) < 0) { fail(); continue; }
			close(fd);
			printf("ok\n");
		} else if (sscanf(line, "write %lld %4095s", &n1, arg) == 2) {
			size_t n = strlen(arg) / 2;
			if (!mem || n1 < 0 || (size_t)n1 + n > memlen) { errno = ERANGE; fail(); continue; }
			for (size_t i = 0; i < n; i++) {
				unsigned int b;
				sscanf(arg + 2 * i, "%2x", &b);
				mem[n1 + i] = (unsigned char)b;
			}
			printf("ok\n");
		} else if (sscanf(line, "read %lld %lld", &n1, &n2) == 2) {
			if (!mem || n1 < 0 || n2 < 0 || (size_t)(n1 + n2) > memlen) { errno = ERANGE; fail(); continue; }
			printf("ok ");
			for (long long i = 0; i < n2; i++) printf("%02x", mem[n1 + i]);
			printf("\n");
		} else if (strcmp(line, "layout\n") == 0) {
#define F(x) #x, offsetof(struct record, x), sizeof(((struct record *)0)->x)
			printf("ok size=%zu %s=%zu:%zu %s=%zu:%zu %s=%zu:%zu %s=%zu:%zu %s=%zu:%zu %s=%zu:%zu %s=%zu:%zu %s=%zu:%zu\n",
			       sizeof(struct record), F(a), F(b), F(c), F(d), F(e), F(f), F(name), F(g));
#undef F
		} else if (strcmp(line, "record-write\n") == 0) {
			struct record r;
			if (!mem || memlen < sizeof r) { errno = ERANGE; fail(); continue; }
			memset(&r, 0xa5, sizeof r);
			r.a = -7;
			r.b = -12345;
			r.c = -2000000001;
			r.d = -0x123456789abcdefLL;
			r.e = 3.141592653589793;
			r.f = -1.5e-3f;
			memcpy(r.name, "C record \xfe\x01\x00\x7f", sizeof r.name);
			r.g = 0xfedcba9876543210ULL;
			memcpy(mem, &r, sizeof r);
			print_record(&r);
		} else if (strcmp(line, "record-read\n") == 0) {
			struct record r;
			if (!mem || memlen < sizeof r) { errno = ERANGE; fail(); continue; }
			memcpy(&r, mem, sizeof r);
			print_record(&r);
		} else if (strcmp(line, "quit\n") == 0) {
			return 0;
		} else {
			errno = EINVAL;
			fail();
		}
	}
	return 0;
}
