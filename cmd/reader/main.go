// Command reader is the Go port of the article's reader.c: it looks up the
// System V shared memory segment with key 0x1234 (size 0, flag 0: it never
// creates), attaches it read-only and prints its first 20 bytes as a C
// string followed by a newline.
//
// Run with no arguments it behaves exactly as the C program: the same stdout
// and stderr bytes (glibc's perror text) and exit status (1 when shmget
// fails, 255 when shmat fails). The flag -impl cshim|purego picks the
// implementation of the C calls (default purego).
package main

import (
	"flag"
	"os"

	"github.com/shmmap/shmmap/internal/cport"
	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

const shmKey = 0x1234

func main() {
	fs := flag.NewFlagSet("reader", flag.ExitOnError)
	implName := cport.ImplFlag(fs)
	fs.Parse(os.Args[1:])
	os.Exit(run(cport.MustImpl("reader", *implName)))
}

func run(sys sysapi.Impl) int {
	id, err := sys.Shmget(shmKey, 0, 0)
	if err != nil {
		cport.Perror(os.Stderr, sys, "shmget error!", err)
		return cport.ExitFailure
	}
	shm, err := sys.Shmat(id, unix.SHM_RDONLY)
	if err != nil {
		cport.Perror(os.Stderr, sys, "shmat error!", err)
		return cport.ExitMinus1
	}
	// char buffer[1024]; strncpy(buffer, shmp, 20); buffer[20] = '\0';
	// printf("%s\n", buffer). C reads 20 bytes even from a smaller segment
	// (the rest of its page); the port reads only the segment's own bytes.
	out := append(cport.Strncpy(shm, 20, 1024), '\n')
	os.Stdout.Write(out)
	sys.Shmdt(shm)
	return cport.ExitOK
}
