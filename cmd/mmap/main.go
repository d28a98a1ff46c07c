// Command mmap is the Go port of the article's mmap.c: it opens mmap.txt in
// the current directory read-write, maps it MAP_SHARED, prints its contents
// as a C string ("read from mem: ..."), overwrites its start with
// "txt changed!\n" through the mapping and reads the change back with
// read(2) ("read from mem: ...").
//
// Run with no arguments it behaves exactly as the C program, including its
// messages: a failing open or fstat prints "shmget error!: <strerror>" and
// exits 1; a failing mmap (an empty file gives EINVAL) prints
// "mmap error!: <strerror>" and exits 1. Where the C program has undefined
// behaviour the port takes a safe reading: the first line prints at most
// 1023 bytes (C overflows its 1024-byte stack buffer for files of 1024 bytes
// or more), and the overwrite stops at the end of the file (C writes into the
// rest of the last page, which never reaches the file).
//
// The flag -impl cshim|purego picks the implementation of the C calls
// (default purego).
package main

import (
	"flag"
	"math"
	"os"
	"syscall"

	"github.com/shmmap/shmmap/internal/cport"
	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

const (
	fileName = "mmap.txt"
	message  = "txt changed!\n"
	bufSize  = 1024 // char buffer[1024], buffer2[1024]
)

func main() {
	fs := flag.NewFlagSet("mmap", flag.ExitOnError)
	implName := cport.ImplFlag(fs)
	fs.Parse(os.Args[1:])
	os.Exit(run(cport.MustImpl("mmap", *implName)))
}

func run(sys sysapi.Impl) int {
	fd, err := sys.Open(fileName, unix.O_RDWR, 0)
	if err != nil {
		cport.Perror(os.Stderr, sys, "shmget error!", err)
		return cport.ExitFailure
	}
	defer sys.Close(fd)
	size, err := sys.Fstat(fd)
	if err == nil && size > math.MaxInt {
		// What fstat in a C program without large-file support reports.
		err = syscall.EOVERFLOW
	}
	if err != nil {
		cport.Perror(os.Stderr, sys, "shmget error!", err)
		return cport.ExitFailure
	}
	addr, err := sys.Mmap(fd, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		cport.Perror(os.Stderr, sys, "mmap error!", err)
		return cport.ExitFailure
	}
	defer sys.Munmap(addr)

	out := []byte("read from mem: ")
	out = append(out, cport.Strncpy(addr, len(addr), bufSize)...)

	// strncpy(addr, messege, strlen(messege)), then read(2) from offset 0.
	copy(addr, message)
	buffer2 := make([]byte, bufSize)
	if n, err := sys.Read(fd, buffer2[:len(message)]); err == nil {
		buffer2 = buffer2[:n]
	} else {
		buffer2 = nil
	}
	out = append(out, "read from mem: "...)
	out = append(out, cport.Strncpy(buffer2, len(buffer2), bufSize)...)
	os.Stdout.Write(out)
	return cport.ExitOK
}
