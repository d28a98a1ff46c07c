// Command mutexbench is the Go end of the mutex hand-off benchmark
// (BenchmarkMutexHandoff), with the command line of c/mutex.c's handoff:
//
//	mutexbench handoff ID ITERS
//
// It attaches System V segment ID, adopts the pthread_mutex_t that
// pthread_mutex_init placed at its start (pthread.MutexAt), adds one to the
// segment's ready word and waits until the other process has too, then
// makes ITERS rounds of Lock, a plain increment of the shared counter, and
// Unlock, and prints the nanoseconds from passing that barrier to the end
// of its loop. The offsets are c/mutex.c's: the mutex at 0, the counter
// (uint64) at 64, the ready word (int32) at 128.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/shmmap/shmmap/pthread"
	"golang.org/x/sys/unix"
)

const (
	offCounter = 64
	offReady   = 128
)

func main() {
	if len(os.Args) != 4 || os.Args[1] != "handoff" {
		fail("usage: mutexbench handoff ID ITERS")
	}
	id, err := strconv.Atoi(os.Args[2])
	if err != nil {
		fail("mutexbench: segment ID %q: %v", os.Args[2], err)
	}
	iters, err := strconv.Atoi(os.Args[3])
	if err != nil || iters < 0 {
		fail("mutexbench: ITERS %q: not a count", os.Args[3])
	}
	mem, err := unix.SysvShmAttach(id, 0, 0)
	if err != nil {
		fail("mutexbench: shmat %d: %v", id, err)
	}
	if len(mem) < offReady+4 {
		fail("mutexbench: segment %d is %d bytes, too short", id, len(mem))
	}
	m, err := pthread.MutexAt(mem)
	if err != nil {
		fail("mutexbench: %v", err)
	}
	counter := (*uint64)(unsafe.Pointer(&mem[offCounter]))
	ready := (*int32)(unsafe.Pointer(&mem[offReady]))
	atomic.AddInt32(ready, 1)
	for atomic.LoadInt32(ready) < 2 {
		runtime.Gosched()
	}
	start := time.Now()
	for range iters {
		if err := m.Lock(); err != nil {
			fail("mutexbench: Lock: %v", err)
		}
		*counter++
		if err := m.Unlock(); err != nil {
			fail("mutexbench: Unlock: %v", err)
		}
	}
	fmt.Println(time.Since(start).Nanoseconds())
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}
