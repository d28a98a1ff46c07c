// Command writer is the Go port of the article's writer.c: it creates (or
// finds) the System V shared memory segment with key 0x1234, 1024 bytes, mode
// 0600, attaches it read-write, copies "shared memory here!\n" into it
// without a terminating NUL, and holds it for 30 seconds.
//
// Run with no arguments it behaves exactly as the C program: no output on
// success; on failure glibc's perror text on stderr and the C exit status (1
// when shmget fails, 255 when shmat fails). The segment is never removed.
//
// Flags:
//
//	-impl cshim|purego  the implementation of the C calls (default purego)
//	-hold DURATION      how long to hold the attachment (default 30s)
package main

import (
	"flag"
	"os"
	"time"

	"github.com/shmmap/shmmap/internal/cport"
	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

const (
	shmKey  = 0x1234
	shmSize = 1024
	message = "shared memory here!\n"
)

func main() {
	fs := flag.NewFlagSet("writer", flag.ExitOnError)
	implName := cport.ImplFlag(fs)
	hold := fs.Duration("hold", 30*time.Second, "how long to hold the segment attached, like the C program's sleep(30)")
	fs.Parse(os.Args[1:])
	os.Exit(run(cport.MustImpl("writer", *implName), *hold))
}

func run(sys sysapi.Impl, hold time.Duration) int {
	id, err := sys.Shmget(shmKey, shmSize, unix.IPC_CREAT|unix.S_IRUSR|unix.S_IWUSR)
	if err != nil {
		cport.Perror(os.Stderr, sys, "shmget error!", err)
		return cport.ExitFailure
	}
	shm, err := sys.Shmat(id, 0)
	if err != nil {
		cport.Perror(os.Stderr, sys, "shmat error!", err)
		return cport.ExitMinus1
	}
	// strncpy(shmp, message, strlen(message)): no NUL is copied.
	copy(shm, message)
	time.Sleep(hold)
	// C leaves the detach to exit(2); detaching here has the same effect on
	// the segment (nattch drops to 0, it persists).
	sys.Shmdt(shm)
	return cport.ExitOK
}
