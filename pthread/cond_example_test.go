package pthread_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shmmap/shmmap/pthread"
	"golang.org/x/sys/unix"
)

// A mutex, a condition variable and the state they guard, in shared
// memory (an anonymous MAP_SHARED mapping here; a System V segment or a
// file mapping shared with C processes works alike). A C process would
// use the same bytes with pthread_mutex_lock and pthread_cond_wait.
func ExampleCond() {
	mem, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANONYMOUS)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer unix.Munmap(mem)
	m, err := pthread.InitMutex(mem[0:64], pthread.MutexAttr{})
	if err != nil {
		fmt.Println(err)
		return
	}
	ready, err := pthread.InitCond(mem[64:128])
	if err != nil {
		fmt.Println(err)
		return
	}
	flag := &mem[128]

	go func() {
		m.Lock()
		*flag = 1
		ready.Signal()
		m.Unlock()
	}()

	m.Lock()
	for *flag == 0 { // wake-ups may be spurious: wait in a loop
		ready.Wait(m)
	}
	m.Unlock()
	fmt.Println("flag set")
	// Output: flag set
}

// WaitContext gives up at the context's deadline, measured on the
// condition variable's clock, and returns with the mutex held again.
func ExampleCond_WaitContext() {
	mem, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANONYMOUS)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer unix.Munmap(mem)
	m, _ := pthread.InitMutex(mem[0:64], pthread.MutexAttr{})
	c, err := pthread.InitCondClock(mem[64:128], unix.CLOCK_MONOTONIC)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	m.Lock()
	err = c.WaitContext(ctx, m) // nobody signals
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	fmt.Println(m.Unlock()) // held again
	// Output:
	// true
	// <nil>
}

// CondAt adopts a condition variable another process initialised, and
// refuses one that is not process-shared.
func ExampleCondAt() {
	mem := make([]uint64, 8) // 64 bytes, aligned
	b := unsafeBytes(mem)
	_, err := pthread.CondAt(b)
	fmt.Println(errors.Is(err, pthread.ErrNotShared))
	pthread.InitCond(b)
	c, err := pthread.CondAt(b)
	fmt.Println(err, c.Clock() == unix.CLOCK_REALTIME)
	// Output:
	// true
	// <nil> true
}
