package posixsem_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/shmmap/shmmap/posixsem"
	"golang.org/x/sys/unix"
)

// A named semaphore used as a lock that C processes share with
// sem_open("/jobs", O_CREAT, 0600, 1), sem_wait and sem_post.
func ExampleOpen() {
	name := fmt.Sprintf("/posixsem-%d-example", os.Getpid())
	sem, err := posixsem.Open(name, os.O_CREATE, 0o600, 1)
	if err != nil {
		log.Fatal(err)
	}
	defer posixsem.Unlink(name)
	defer sem.Close()

	if err := sem.Wait(); err != nil {
		log.Fatal(err)
	}
	// ... the critical section, shared with the C processes ...
	if err := sem.Post(); err != nil {
		log.Fatal(err)
	}
	v, _ := sem.Value()
	fmt.Println("value", v)
	// Output: value 1
}

// An unnamed semaphore at the start of shared memory: here an anonymous
// MAP_SHARED mapping that a child process would inherit; a System V
// segment or a memfd works the same way, and a C process uses the memory
// as a sem_t*.
func ExampleInit() {
	mem, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANONYMOUS)
	if err != nil {
		log.Fatal(err)
	}
	defer unix.Munmap(mem)
	sem, err := posixsem.Init(mem, 0)
	if err != nil {
		log.Fatal(err)
	}
	go sem.Post()
	if err := sem.Wait(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("posted and taken")
	// Output: posted and taken
}

func ExampleSemaphore_WaitContext() {
	mem, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANONYMOUS)
	if err != nil {
		log.Fatal(err)
	}
	defer unix.Munmap(mem)
	sem, err := posixsem.Init(mem, 0)
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	err = sem.WaitContext(ctx) // sem_timedwait with ctx's deadline
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	// Output: true
}
