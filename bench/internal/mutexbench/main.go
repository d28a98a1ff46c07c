// Command mutexbench is the Go side of the pthread mutex benchmarks
// (mutex_test.go), with the command lines of c/mutex.c:
//
//	mutexbench uncontended ITERS normal|robust [thread]
//	mutexbench handoff ID ITERS [thread]
//
// The benchmarks build it with CGO_ENABLED=0: a Go program without cgo,
// whose threads get their robust list heads from package pthread (a
// program with cgo has glibc's).
//
// uncontended locks and unlocks a process-shared mutex of type
// PTHREAD_MUTEX_NORMAL, robust or not (pthread.InitMutex), in a MAP_SHARED
// anonymous mapping ITERS times, after 1000 untimed rounds, and prints the
// mean nanoseconds per Lock+Unlock.
//
// handoff attaches System V segment ID, adopts the pthread_mutex_t that
// pthread_mutex_init placed at its start (pthread.MutexAt), adds one to the
// segment's ready word and waits until the other process has too, then
// makes ITERS rounds of Lock, a plain increment of the shared counter, and
// Unlock, and prints the nanoseconds from passing that barrier to the end
// of its loop. The offsets are c/mutex.c's: the mutex at 0, the counter
// (uint64) at 64, the ready word (int32) at 128.
//
// With the last argument "thread", the loops call LockOn and UnlockOn with
// the pthread.Thread of the main goroutine (pthread.Self, before the loop)
// instead of Lock and Unlock.
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

const usage = "usage: mutexbench uncontended ITERS normal|robust [thread] | mutexbench handoff ID ITERS [thread]"

// thread returns the main goroutine's Thread if args (after the fixed
// ones) say "thread", else nil.
func thread(args []string) *pthread.Thread {
	switch {
	case len(args) == 0:
		return nil
	case len(args) == 1 && args[0] == "thread":
		return pthread.Self()
	}
	fail(usage)
	return nil
}

func main() {
	if len(os.Args) >= 4 && os.Args[1] == "uncontended" {
		uncontended(os.Args[2], os.Args[3], thread(os.Args[4:]))
		return
	}
	if len(os.Args) < 4 || os.Args[1] != "handoff" {
		fail(usage)
	}
	th := thread(os.Args[4:])
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
	if th == nil {
		for range iters {
			if err := m.Lock(); err != nil {
				fail("mutexbench: Lock: %v", err)
			}
			*counter++
			if err := m.Unlock(); err != nil {
				fail("mutexbench: Unlock: %v", err)
			}
		}
	} else {
		for range iters {
			if err := m.LockOn(th); err != nil {
				fail("mutexbench: LockOn: %v", err)
			}
			*counter++
			if err := m.UnlockOn(th); err != nil {
				fail("mutexbench: UnlockOn: %v", err)
			}
		}
	}
	fmt.Println(time.Since(start).Nanoseconds())
}

func uncontended(itersArg, kind string, th *pthread.Thread) {
	iters, err := strconv.Atoi(itersArg)
	if err != nil || iters < 1 {
		fail("mutexbench: ITERS %q: not a positive count", itersArg)
	}
	if kind != "normal" && kind != "robust" {
		fail("mutexbench: kind %q: want normal or robust", kind)
	}
	mem, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANONYMOUS)
	if err != nil {
		fail("mutexbench: mmap: %v", err)
	}
	m, err := pthread.InitMutex(mem, pthread.MutexAttr{Type: pthread.MutexNormal, Robust: kind == "robust"})
	if err != nil {
		fail("mutexbench: %v", err)
	}
	rounds(m, th, 1000) // untimed, as the C program's
	start := time.Now()
	rounds(m, th, iters)
	fmt.Printf("%.2f\n", float64(time.Since(start).Nanoseconds())/float64(iters))
}

// rounds locks and unlocks m n times, with Lock and Unlock, or with LockOn
// and UnlockOn if th is not nil.
func rounds(m *pthread.Mutex, th *pthread.Thread, n int) {
	if th == nil {
		for range n {
			if err := m.Lock(); err != nil {
				fail("mutexbench: Lock: %v", err)
			}
			if err := m.Unlock(); err != nil {
				fail("mutexbench: Unlock: %v", err)
			}
		}
		return
	}
	for range n {
		if err := m.LockOn(th); err != nil {
			fail("mutexbench: LockOn: %v", err)
		}
		if err := m.UnlockOn(th); err != nil {
			fail("mutexbench: UnlockOn: %v", err)
		}
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}
