//go:build cgo

package csem

/*
#cgo LDFLAGS: -pthread
#include <fcntl.h>
#include <semaphore.h>
#include <stdlib.h>
#include <time.h>

// sem_open is variadic; SEM_FAILED becomes NULL.
static sem_t *csem_open(const char *name, int flag, unsigned int mode, unsigned int value) {
	sem_t *s = sem_open(name, flag, (mode_t)mode, value);
	return s == SEM_FAILED ? NULL : s;
}

static int csem_timedwait(sem_t *s, long long sec, long nsec) {
	struct timespec ts = { .tv_sec = (time_t)sec, .tv_nsec = nsec };
	return sem_timedwait(s, &ts);
}
*/
import "C"

import (
	"context"
	"io/fs"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/shmmap/shmmap/posixsem"
)

// Size is sizeof(sem_t) in this C ABI.
const Size = C.sizeof_sem_t

// Semaphore is a semaphore used through glibc.
type Semaphore struct {
	sem   *C.sem_t
	named bool
	mem   []byte // Init and At: keeps the caller's memory reachable

	// state counts the calls in progress and has closedBit once Close was
	// called; the last call out does sem_close.
	state atomic.Int64
}

const closedBit = 1 << 62

var _ posixsem.Sem = (*Semaphore)(nil)

// Open calls sem_open(name, flag, perm, value). The mode and value are
// passed whatever flag is, as a C caller may.
func Open(name string, flag int, perm fs.FileMode, value uint32) (*Semaphore, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	s, err := C.csem_open(cname, C.int(flag), C.uint(perm.Perm()), C.uint(value))
	if s == nil {
		return nil, errno(err)
	}
	return &Semaphore{sem: s, named: true}, nil
}

// Unlink calls sem_unlink(name).
func Unlink(name string) error {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	if r, err := C.sem_unlink(cname); r != 0 {
		return errno(err)
	}
	return nil
}

// Init calls sem_init(mem, 1, value) on the start of mem, which must be
// shared memory at least Size bytes long and aligned for sem_t (checked
// here: glibc would write out of bounds).
func Init(mem []byte, value uint32) (*Semaphore, error) {
	if err := check(mem); err != nil {
		return nil, err
	}
	p := (*C.sem_t)(unsafe.Pointer(&mem[0]))
	if r, err := C.sem_init(p, 1, C.uint(value)); r != 0 {
		return nil, errno(err)
	}
	return &Semaphore{sem: p, mem: mem}, nil
}

// At uses the sem_t at the start of mem, as a C process given a pointer to
// it would, without checking its contents.
func At(mem []byte) (*Semaphore, error) {
	if err := check(mem); err != nil {
		return nil, err
	}
	return &Semaphore{sem: (*C.sem_t)(unsafe.Pointer(&mem[0])), mem: mem}, nil
}

func check(mem []byte) error {
	if len(mem) < Size || uintptr(unsafe.Pointer(&mem[0]))%unsafe.Alignof(C.long(0)) != 0 {
		return syscall.EINVAL
	}
	return nil
}

// Post calls sem_post.
func (s *Semaphore) Post() error {
	if !s.enter() {
		return posixsem.ErrClosed
	}
	defer s.leave()
	if r, err := C.sem_post(s.sem); r != 0 {
		return errno(err)
	}
	return nil
}

// Wait calls sem_wait, again after EINTR.
func (s *Semaphore) Wait() error {
	if !s.enter() {
		return posixsem.ErrClosed
	}
	defer s.leave()
	for {
		r, err := C.sem_wait(s.sem)
		if r == 0 {
			return nil
		}
		if e := errno(err); e != syscall.EINTR {
			return e
		}
	}
}

// TryWait calls sem_trywait; EAGAIN is posixsem.ErrWouldBlock.
func (s *Semaphore) TryWait() error {
	if !s.enter() {
		return posixsem.ErrClosed
	}
	defer s.leave()
	if r, err := C.sem_trywait(s.sem); r != 0 {
		if e := errno(err); e != syscall.EAGAIN {
			return e
		}
		return posixsem.ErrWouldBlock
	}
	return nil
}

// pollInterval bounds each sem_timedwait of WaitContext, which cannot
// otherwise notice a cancellation before the deadline.
const pollInterval = 10 * time.Millisecond

// WaitContext calls sem_timedwait with ctx's deadline. glibc cannot be
// interrupted, so a ctx that may be cancelled before its deadline is
// polled: each sem_timedwait lasts at most pollInterval.
func (s *Semaphore) WaitContext(ctx context.Context) error {
	if ctx.Done() == nil {
		return s.Wait()
	}
	if !s.enter() {
		return posixsem.ErrClosed
	}
	defer s.leave()
	deadline, hasDeadline := ctx.Deadline()
	for {
		until := time.Now().Add(pollInterval)
		if hasDeadline && deadline.Before(until) {
			until = deadline
		}
		r, err := C.csem_timedwait(s.sem, C.longlong(until.Unix()), C.long(until.Nanosecond()))
		if r == 0 {
			return nil
		}
		switch e := errno(err); e {
		case syscall.EINTR:
		case syscall.ETIMEDOUT:
			if err := ctx.Err(); err != nil {
				return err
			}
			if hasDeadline && !time.Now().Before(deadline) {
				return context.DeadlineExceeded
			}
		default:
			return e
		}
	}
}

// Value calls sem_getvalue.
func (s *Semaphore) Value() (int, error) {
	if !s.enter() {
		return 0, posixsem.ErrClosed
	}
	defer s.leave()
	var v C.int
	if r, err := C.sem_getvalue(s.sem, &v); r != 0 {
		return 0, errno(err)
	}
	return int(v), nil
}

// Close calls sem_close on a named semaphore once no call is using it; an
// unnamed one is left as it is (glibc's sem_destroy does nothing).
func (s *Semaphore) Close() error {
	for {
		v := s.state.Load()
		if v&closedBit != 0 {
			return posixsem.ErrClosed
		}
		if s.state.CompareAndSwap(v, v|closedBit) {
			if v == 0 {
				return s.release()
			}
			return nil
		}
	}
}

func (s *Semaphore) release() error {
	if !s.named {
		return nil
	}
	if r, err := C.sem_close(s.sem); r != 0 {
		return errno(err)
	}
	return nil
}

func (s *Semaphore) enter() bool {
	for {
		v := s.state.Load()
		if v&closedBit != 0 {
			return false
		}
		if s.state.CompareAndSwap(v, v+1) {
			return true
		}
	}
}

func (s *Semaphore) leave() {
	if s.state.Add(-1) == closedBit {
		s.release()
	}
}

// errno is the errno of a failed call (EIO if cgo saw none).
func errno(err error) error {
	if e, ok := err.(syscall.Errno); ok && e != 0 {
		return e
	}
	return syscall.EIO
}
