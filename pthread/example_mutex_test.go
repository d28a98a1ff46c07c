package pthread_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/shmmap/shmmap/pthread"
	"golang.org/x/sys/unix"
)

// A robust process-shared mutex at the start of shared memory: here an
// anonymous MAP_SHARED mapping a child process would inherit; a System V
// segment or a memfd works the same way, and a C process uses the memory
// with pthread_mutex_lock and pthread_mutex_unlock.
func ExampleInitMutex() {
	mem, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANONYMOUS)
	if err != nil {
		log.Fatal(err)
	}
	defer unix.Munmap(mem)

	m, err := pthread.InitMutex(mem, pthread.MutexAttr{Type: pthread.MutexErrorCheck, Robust: true})
	if err != nil {
		log.Fatal(err)
	}
	if err := m.Lock(); err != nil {
		log.Fatal(err)
	}
	// ... the critical section, shared with the C processes ...
	fmt.Println("relock:", errors.Is(m.Lock(), unix.EDEADLK))
	if err := m.Unlock(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%+v\n", m.Attr())
	// Output:
	// relock: true
	// {Type:errorcheck Robust:true Protocol:none}
}

// Taking a robust mutex whose previous owner (a C or Go process) died
// holding it: Lock returns ErrOwnerDead with the mutex held. Repair the
// shared data, then call Consistent before Unlock; without it the mutex
// becomes unusable for every process (ErrNotRecoverable).
func ExampleMutex_Consistent() {
	mem, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANONYMOUS)
	if err != nil {
		log.Fatal(err)
	}
	defer unix.Munmap(mem)
	m, err := pthread.MutexAt(mem) // a mutex some other process made: here none
	if err != nil {
		fmt.Println(errors.Is(err, pthread.ErrNotShared))
		if m, err = pthread.InitMutex(mem, pthread.MutexAttr{Robust: true}); err != nil {
			log.Fatal(err)
		}
	}

	switch err := m.Lock(); {
	case errors.Is(err, pthread.ErrOwnerDead):
		// ... repair what the dead owner left half done ...
		if err := m.Consistent(); err != nil {
			log.Fatal(err)
		}
	case err != nil:
		log.Fatal(err) // ErrNotRecoverable, for one
	}
	defer m.Unlock()
	fmt.Println("locked")
	// Output:
	// true
	// locked
}
