package main

/*
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "/work/main/cring/ring.h"
static void rep_movsb(void *d, const void *s, size_t n) {
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}
static int cloop(unsigned char *mem, size_t len, unsigned char *buf, size_t size, long count) {
	struct shmring p;
	if (shmring_attach(&p, mem, len)) return 1;
	if (shmring_producer(&p)) return 2;
	for (long i = 0; i < count; i++) {
		uint64_t seq = (uint64_t)i;
		memcpy(buf, &seq, 8);
		void *d;
		if (shmring_claim(&p, 1, (uint32_t)size, &d, -1)) return 3;
		rep_movsb(d, buf, size);
		if (shmring_commit(&p)) return 4;
	}
	shmring_close(&p);
	return 0;
}
static void __attribute__((constructor)) early(int argc, char **argv) {
	if (!getenv("XCTOR")) return;
	size_t size = strtoul(argv[3], NULL, 0);
	long count = atol(argv[4]);
	struct stat st;
	fstat(3, &st);
	unsigned char *mem = mmap(NULL, st.st_size, PROT_READ|PROT_WRITE, MAP_SHARED, 3, 0);
	unsigned char *buf = aligned_alloc(4096, 16384);
	memset(buf, 0, 16384);
	exit(cloop(mem, st.st_size, buf, size, count));
}
static int runloop2(unsigned char *mem, long len, long size, long count) {
	unsigned char *buf = aligned_alloc(4096, 16384);
	if (!getenv("XNOMEMSET")) memset(buf, 0, 16384);
	return cloop(mem, len, buf, size, count);
}
static int runloop(long size, long count) {
	struct stat st;
	fstat(3, &st);
	unsigned char *mem = mmap(NULL, st.st_size, PROT_READ|PROT_WRITE, MAP_SHARED, 3, 0);
	unsigned char *buf = aligned_alloc(4096, 16384);
	memset(buf, 0, 16384);
	return cloop(mem, st.st_size, buf, size, count);
}
*/
import "C"

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

func main() {
	size, _ := strconv.Atoi(os.Args[3])
	count, _ := strconv.Atoi(os.Args[4])
	if os.Getenv("XGOMAP") != "" {
		var st unix.Stat_t
		unix.Fstat(3, &st)
		mem, err := unix.Mmap(3, 0, int(st.Size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			panic(err)
		}
		os.Exit(int(C.runloop2((*C.uchar)(&mem[0]), C.long(len(mem)), C.long(size), C.long(count))))
	}
	os.Exit(int(C.runloop(C.long(size), C.long(count))))
}
