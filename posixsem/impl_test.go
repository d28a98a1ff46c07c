package posixsem_test

import (
	"io/fs"
	"unsafe"

	"github.com/shmmap/shmmap/posixsem"
)

// impl is one implementation of POSIX semaphores: posixsem itself
// ("purego") and, with cgo, glibc through package csem ("glibc").
type impl struct {
	name   string
	open   func(name string, flag int, perm fs.FileMode, value uint32) (posixsem.Sem, error)
	unlink func(name string) error
	init   func(mem []byte, value uint32) (posixsem.Sem, error)
	at     func(mem []byte) (posixsem.Sem, error)
}

var impls = []impl{{
	name: "purego",
	open: func(name string, flag int, perm fs.FileMode, value uint32) (posixsem.Sem, error) {
		s, err := posixsem.Open(name, flag, perm, value)
		if err != nil {
			return nil, err
		}
		return s, nil
	},
	unlink: posixsem.Unlink,
	init: func(mem []byte, value uint32) (posixsem.Sem, error) {
		s, err := posixsem.Init(mem, value)
		if err != nil {
			return nil, err
		}
		return s, nil
	},
	at: func(mem []byte) (posixsem.Sem, error) {
		s, err := posixsem.At(mem)
		if err != nil {
			return nil, err
		}
		return s, nil
	},
}}

// counterAt is the int64 counter the contention tests keep at offset 64 of
// the shared memory, next to a sem_t at offset 0.
func counterAt(mem []byte) *int64 { return (*int64)(unsafe.Pointer(&mem[64])) }

// increment does n times: Wait, a deliberately slow non-atomic increment,
// Post; the same as testdata/semcount.c. A negative n means -n increments
// without the semaphore.
func increment(sem posixsem.Sem, counter *int64, n int) error {
	lock := n >= 0
	if !lock {
		n = -n
	}
	var spun int
	for range n {
		if lock {
			if err := sem.Wait(); err != nil {
				return err
			}
		}
		v := *counter
		pause(&spun, 1000)
		*counter = v + 1
		if lock {
			if err := sem.Post(); err != nil {
				return err
			}
		}
	}
	return nil
}

// pause widens the window between the read and the write of the counter.
//
//go:noinline
func pause(sink *int, n int) {
	for i := range n {
		*sink ^= i
	}
}
