package posixsem

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Semaphore is a glibc-compatible POSIX semaphore: a named one from Open,
// or an unnamed process-shared one in caller-provided memory from Init or
// At. Its methods are safe for concurrent use.
type Semaphore struct {
	name  string // as given to Open; "" for an unnamed semaphore
	l     layout
	f     fields
	mem   []byte // the sem_t; keeps the caller's memory reachable
	unmap bool   // mem is Open's mapping, unmapped by the last user after Close

	// state counts the methods running (they keep the memory mapped) and
	// has closedBit set once Close was called.
	state atomic.Int64
}

const closedBit = 1 << 62

// Init is sem_init(sem, 1, value): it makes the first Size bytes of mem a
// process-shared semaphore with the given value and returns it. mem must be
// shared memory (a System V segment, a MAP_SHARED mapping, a memfd) for
// other processes to use the semaphore, at least Size bytes long and
// aligned to Align. A value above ValueMax is EINVAL. Other processes open
// the same memory with At, or with glibc's sem_wait and sem_post on a
// pointer to it.
func Init(mem []byte, value uint32) (*Semaphore, error) {
	return initLayout(mem, value, nativeLayout())
}

func initLayout(mem []byte, value uint32, l layout) (*Semaphore, error) {
	if err := checkMemory(mem, l); err != nil {
		return nil, &Error{Op: "sem_init", Err: err}
	}
	if value > ValueMax {
		return nil, &Error{Op: "sem_init", Err: unix.EINVAL}
	}
	s := newSemaphore("", mem, l, false)
	err := s.run("sem_init", func() error {
		// __new_sem_init with pshared != 0.
		if l.wide {
			atomic.StoreUint64(s.f.data, uint64(value))
		} else {
			atomic.StoreUint32(s.f.word, value<<valueShift)
			atomic.StoreInt32(s.f.pad, 0)
			atomic.StoreUint32(s.f.nwaiters, 0)
		}
		atomic.StoreInt32(s.f.private, futexShared)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// At returns the process-shared semaphore that sem_init (with pshared != 0)
// or Init placed at the start of mem. Memory shorter than Size or not
// aligned to Align is EINVAL; memory that does not hold a process-shared
// sem_t (zeroes, a semaphore made with pshared 0, garbage) is an error
// matching ErrNotSemaphore.
func At(mem []byte) (*Semaphore, error) {
	return atLayout(mem, nativeLayout())
}

func atLayout(mem []byte, l layout) (*Semaphore, error) {
	const op = "posixsem.At"
	if err := checkMemory(mem, l); err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	s := newSemaphore("", mem, l, false)
	if err := s.run(op, func() error { return checkContents(s.mem, l, "") }); err != nil {
		if _, ok := err.(*Error); !ok {
			err = &Error{Op: op, Err: err}
		}
		return nil, err
	}
	return s, nil
}

func newSemaphore(name string, mem []byte, l layout, unmap bool) *Semaphore {
	mem = mem[:l.size:l.size]
	return &Semaphore{
		name:  name,
		l:     l,
		f:     fieldsAt(unsafe.Pointer(&mem[0]), l),
		mem:   mem,
		unmap: unmap,
	}
}

// Name returns the name given to Open, or "" for an unnamed semaphore.
func (s *Semaphore) Name() string { return s.name }

// Post is sem_post: it adds one to the value and wakes one waiter if there
// may be any. At ValueMax it fails with EOVERFLOW and changes nothing.
func (s *Semaphore) Post() error {
	return s.run("sem_post", func() error {
		if e := s.post(); e != 0 {
			return e
		}
		return nil
	})
}

// Wait is sem_wait: it takes one from the value, sleeping on the futex
// while the value is 0.
func (s *Semaphore) Wait() error {
	return s.run("sem_wait", func() error {
		if s.tryFast(false) {
			return nil
		}
		return s.waitSlow(context.Background())
	})
}

// TryWait is sem_trywait: it takes one from the value if the value is not
// 0, and otherwise returns ErrWouldBlock (which wraps unix.EAGAIN).
func (s *Semaphore) TryWait() error {
	return s.run("sem_trywait", func() error {
		if s.tryFast(true) {
			return nil
		}
		return ErrWouldBlock
	})
}

// WaitContext is sem_timedwait with ctx's deadline as the absolute
// CLOCK_REALTIME timeout. It returns nil once it took one from the value,
// and ctx.Err() if ctx ends first. Like sem_timedwait it first tries to take
// a token without blocking, so it may succeed when ctx is already done.
func (s *Semaphore) WaitContext(ctx context.Context) error {
	return s.run("sem_timedwait", func() error {
		if s.tryFast(false) {
			return nil
		}
		return s.waitSlow(ctx)
	})
}

// Value is sem_getvalue: the current value, never negative (glibc does not
// report waiters as a negative value).
func (s *Semaphore) Value() (int, error) {
	var v int
	err := s.run("sem_getvalue", func() error {
		if s.l.wide {
			v = int(uint32(atomic.LoadUint64(s.f.data) & valueMask))
		} else {
			v = int(atomic.LoadUint32(s.f.word) >> valueShift)
		}
		return nil
	})
	return v, err
}

// Close is sem_close for a named semaphore: its mapping is removed once no
// method is using it (a Wait already blocked keeps it until it returns).
// For an unnamed semaphore it only ends the use of the memory, which stays
// the caller's (glibc's sem_destroy does nothing either). Every method,
// Close included, then returns an error matching ErrClosed.
func (s *Semaphore) Close() error {
	for {
		v := s.state.Load()
		if v&closedBit != 0 {
			return &Error{Op: "sem_close", Name: s.name, Err: ErrClosed}
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
	if !s.unmap {
		return nil
	}
	if err := unix.Munmap(s.mem); err != nil {
		return &Error{Op: "sem_close", Name: s.name, Err: err}
	}
	return nil
}

// enter registers a running method; it fails after Close.
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

// leave ends a method; the last one out after Close releases the memory.
func (s *Semaphore) leave() {
	if s.state.Add(-1) == closedBit {
		s.release()
	}
}

// run runs fn, the body of the glibc function op, with the memory kept
// mapped and guarded: a fault comes back as a *FaultError. Errno results
// are wrapped in an *Error; ErrWouldBlock and context errors are returned
// as they are.
func (s *Semaphore) run(op string, fn func() error) (err error) {
	if !s.enter() {
		return &Error{Op: op, Name: s.name, Err: ErrClosed}
	}
	defer s.leave()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if v := recover(); v != nil {
			f, ok := v.(interface{ Addr() uintptr })
			if !ok {
				panic(v)
			}
			err = &Error{Op: op, Name: s.name, Err: &FaultError{Addr: f.Addr()}}
		}
	}()
	err = fn()
	switch err.(type) {
	case nil, *Error:
		return err
	case unix.Errno:
		return &Error{Op: op, Name: s.name, Err: err}
	}
	return err
}

func (s *Semaphore) private() int32 { return atomic.LoadInt32(s.f.private) }

// wake is futex_wake on the value word with the semaphore's private flag.
func (s *Semaphore) wake(n int) unix.Errno {
	return futexWakeN(s.f.word, n, s.private())
}

// String describes the semaphore for debugging.
func (s *Semaphore) String() string {
	if s.name != "" {
		return fmt.Sprintf("posixsem.Semaphore(%s)", s.name)
	}
	return fmt.Sprintf("posixsem.Semaphore(%p)", unsafe.Pointer(&s.mem[0]))
}
