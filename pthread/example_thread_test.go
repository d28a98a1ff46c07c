package pthread_test

import (
	"fmt"
	"log"

	"github.com/shmmap/shmmap/pthread"
	"golang.org/x/sys/unix"
)

// A goroutine that locks a robust mutex many times takes its Thread once:
// LockOn and UnlockOn then make no system call while the mutex is free,
// where Lock and Unlock ask the kernel for the thread's id and robust list
// head every time. The goroutine stays on its OS thread until Release.
func ExampleSelf() {
	mem, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANONYMOUS)
	if err != nil {
		log.Fatal(err)
	}
	defer unix.Munmap(mem)
	m, err := pthread.InitMutex(mem, pthread.MutexAttr{Robust: true})
	if err != nil {
		log.Fatal(err)
	}

	th := pthread.Self()
	defer th.Release()
	counter := 0
	for range 1000 {
		if err := m.LockOn(th); err != nil {
			log.Fatal(err) // errors.Is(err, pthread.ErrOwnerDead): repair, Consistent
		}
		counter++ // ... the critical section, shared with C processes ...
		if err := m.UnlockOn(th); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println(counter)
	// Output: 1000
}
