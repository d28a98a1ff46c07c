package pthread

import (
	"context"
	"fmt"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Cond is a glibc-compatible process-shared condition variable: a
// pthread_cond_t in caller-provided shared memory, from InitCond or
// CondAt. C processes wait on and signal the same condition variable with
// pthread_cond_wait, pthread_cond_timedwait, pthread_cond_clockwait,
// pthread_cond_signal and pthread_cond_broadcast. Its methods are safe for
// concurrent use.
type Cond struct {
	mem    []byte // the pthread_cond_t; keeps the caller's memory reachable
	f      condFields
	wide   bool  // the 64-bit counters are plain uint64 (see wideCondNative)
	shared bool  // always true for a Cond from InitCond or CondAt
	clock  int32 // CLOCK_REALTIME or CLOCK_MONOTONIC
}

// InitCond is pthread_cond_init with a PTHREAD_PROCESS_SHARED attribute
// and the default clock, CLOCK_REALTIME: it makes the first CondSize bytes
// of mem a condition variable with no waiters and returns it. mem must be
// shared memory (a System V segment, a MAP_SHARED mapping, a memfd) for
// other processes to use it, at least CondSize bytes long and aligned to
// CondAlign; anything else is EINVAL. Nobody may be using the memory as a
// condition variable meanwhile.
func InitCond(mem []byte) (*Cond, error) {
	return initCond(mem, unix.CLOCK_REALTIME, wideCondNative)
}

// InitCondClock is InitCond with pthread_condattr_setclock(clock): C's
// pthread_cond_timedwait on it then measures its absolute timeout on that
// clock (WaitContext measures a context's deadline on Go's monotonic
// clock whatever the clock, see WaitContext). clock is unix.CLOCK_REALTIME or
// unix.CLOCK_MONOTONIC; any other clock is EINVAL, as glibc's
// pthread_condattr_setclock refuses it.
func InitCondClock(mem []byte, clock int32) (*Cond, error) {
	if clock != unix.CLOCK_REALTIME && clock != unix.CLOCK_MONOTONIC {
		return nil, &Error{Op: "pthread_condattr_setclock", Err: fmt.Errorf("clock %d is neither CLOCK_REALTIME nor CLOCK_MONOTONIC: %w", clock, unix.EINVAL)}
	}
	return initCond(mem, clock, wideCondNative)
}

func initCond(mem []byte, clock int32, wide bool) (*Cond, error) {
	if err := checkCondMemory(mem, wide); err != nil {
		return nil, &Error{Op: "pthread_cond_init", Err: err}
	}
	c := newCond(mem, wide)
	c.clock = clock
	// __pthread_cond_init: all zero, then the flags in __wrefs.
	words := unsafe.Slice((*uint32)(unsafe.Pointer(&c.mem[0])), CondSize/4)
	for i := range words {
		atomic.StoreUint32(&words[i], 0)
	}
	flags := uint32(condSharedMask)
	if clock == unix.CLOCK_MONOTONIC {
		flags |= condMonotonicMask
	}
	atomic.StoreUint32(c.f.wrefs, flags)
	return c, nil
}

// CondAt returns the condition variable that pthread_cond_init (with a
// PTHREAD_PROCESS_SHARED attribute) or InitCond placed at the start of
// mem, with the clock it was initialised with. Memory shorter than
// CondSize or not aligned to CondAlign is EINVAL. A condition variable
// that is not process-shared (PTHREAD_COND_INITIALIZER, zeroes, a default
// pthread_cond_init) is an error matching ErrNotShared: its futex calls
// are private to one process. Memory that holds no glibc condition
// variable in a state glibc could leave it in is an error matching
// ErrUnsupported. CondAt only reads the memory, once, and never blocks.
func CondAt(mem []byte) (*Cond, error) {
	return condAt(mem, wideCondNative)
}

func condAt(mem []byte, wide bool) (*Cond, error) {
	if err := checkCondMemory(mem, wide); err != nil {
		return nil, &Error{Op: "pthread.CondAt", Err: err}
	}
	c := newCond(mem, wide)
	if err := c.check(); err != nil {
		return nil, &Error{Op: "pthread.CondAt", Err: err}
	}
	if atomic.LoadUint32(c.f.wrefs)&condMonotonicMask != 0 {
		c.clock = unix.CLOCK_MONOTONIC
	}
	return c, nil
}

func newCond(mem []byte, wide bool) *Cond {
	mem = mem[:CondSize:CondSize]
	return &Cond{
		mem:    mem,
		f:      condFieldsAt(unsafe.Pointer(&mem[0]), wide),
		wide:   wide,
		shared: true,
		clock:  unix.CLOCK_REALTIME,
	}
}

// checkCondMemory validates memory for a pthread_cond_t: long enough, and
// aligned for the atomic operations on its 64-bit counters.
func checkCondMemory(mem []byte, wide bool) error {
	if len(mem) < CondSize {
		return fmt.Errorf("%d bytes of memory, a pthread_cond_t needs %d: %w", len(mem), CondSize, unix.EINVAL)
	}
	align := uintptr(4)
	if wide {
		align = 8
	}
	if addr := uintptr(unsafe.Pointer(&mem[0])); addr%align != 0 {
		return fmt.Errorf("memory at %#x is not %d-byte aligned as a pthread_cond_t must be: %w", addr, align, unix.EINVAL)
	}
	return nil
}

// check validates the contents: a process-shared condition variable whose
// fields are consistent with the algorithm's invariants. Values that only
// hold while nobody holds the condvar-internal lock are checked only then.
func (c *Cond) check() error {
	f := &c.f
	// Every group reference (__g_refs, in units of 2) belongs to a waiter
	// counted in __wrefs (in units of 8): read the references first, so
	// that a waiter leaving between the reads cannot make a consistent
	// state look inconsistent, except when it also takes a new reference;
	// a few snapshots rule that out.
	var wrefs, refs uint32
	for range 3 {
		refs = atomic.LoadUint32(f.gRefs[0])>>1 + atomic.LoadUint32(f.gRefs[1])>>1
		wrefs = atomic.LoadUint32(f.wrefs)
		if refs <= wrefs>>3 {
			break
		}
	}
	if wrefs&condSharedMask == 0 {
		return fmt.Errorf("%w: __wrefs is %#x, without the process-shared bit (a PTHREAD_PROCESS_PRIVATE condition variable, PTHREAD_COND_INITIALIZER, or zeroes)", ErrNotShared, wrefs)
	}
	if refs > wrefs>>3 {
		return fmt.Errorf("%w: __g_refs hold %d group references, more than the %d waiters __wrefs (%#x) counts", ErrUnsupported, refs, wrefs>>3, wrefs)
	}
	lock := atomic.LoadUint32(f.origSize)
	if lock&3 == 3 {
		return fmt.Errorf("%w: __g1_orig_size is %#x, whose lock bits are never 3", ErrUnsupported, lock)
	}
	if !c.wide {
		for _, w := range []struct {
			name string
			hi   *uint32
		}{{"__wseq", f.wseq.hi}, {"__g1_start", f.g1Start.hi}} {
			// An overflow in progress leaves the high half's top bit set
			// for a moment; it is never larger than that.
			if h := atomic.LoadUint32(w.hi); h&^msb >= 1<<30 {
				return fmt.Errorf("%w: the high half of %s is %#x, beyond what 2^61 waits can reach", ErrUnsupported, w.name, h)
			}
		}
	}
	wseq, g1Start := f.wseq.load()>>1, f.g1Start.load()>>1
	if lock&3 == 0 && g1Start > wseq {
		return fmt.Errorf("%w: __g1_start (position %d) is past __wseq (position %d)", ErrUnsupported, g1Start, wseq)
	}
	if lock&3 == 0 && g1Start+uint64(lock>>2) > wseq {
		return fmt.Errorf("%w: G1 (from position %d, %d waiters) ends past __wseq (position %d)", ErrUnsupported, g1Start, lock>>2, wseq)
	}
	return nil
}

// Clock returns the condition variable's clock, the one C's timed waits
// on it measure their deadlines on: unix.CLOCK_REALTIME, or
// unix.CLOCK_MONOTONIC for a condition variable initialised with that
// clock.
func (c *Cond) Clock() int32 { return c.clock }

// Signal is pthread_cond_signal: it wakes at least one waiter that
// started waiting before it, Go or C, if there is any. As with
// pthread_cond_signal, a waiter that started waiting without holding the
// mutex the signaler then took may or may not be eligible.
func (c *Cond) Signal() error {
	c.signal()
	return nil
}

// Broadcast is pthread_cond_broadcast: it wakes every waiter, Go or C,
// that started waiting before it.
func (c *Cond) Broadcast() error {
	c.broadcast()
	return nil
}

// String describes the condition variable for debugging.
func (c *Cond) String() string {
	return fmt.Sprintf("pthread.Cond(%p)", unsafe.Pointer(&c.mem[0]))
}

// Wait is pthread_cond_wait: it atomically releases m, which the caller
// must hold, and sleeps until Signal or Broadcast (from Go or C) wakes it,
// then takes m again before returning. As with pthread_cond_wait, a
// wake-up may be spurious: call it in a loop that checks the condition.
// It returns m's error if releasing m fails (EPERM for an errorcheck or
// robust mutex the goroutine does not hold; it then does not wait), or if
// taking it again reports that its owner died (ErrOwnerDead: m is held) or
// that it is not recoverable.
func (c *Cond) Wait(m *Mutex) error {
	return c.WaitContext(context.Background(), m)
}

// WaitContext is Wait with ctx: ctx's deadline is the timeout of
// pthread_cond_timedwait, and a context that is cancelled or whose
// deadline passes ends the wait with ctx.Err(). The deadline is measured
// on Go's monotonic clock, as ctx's own timer is, not as an absolute time
// on the condition variable's clock (Clock): a jump of the wall clock
// neither shortens nor lengthens the wait. Whatever it returns, m is held again, as POSIX
// requires. Like glibc, it may consume a signal and return nil even when
// ctx is already done.
func (c *Cond) WaitContext(ctx context.Context, m *Mutex) error {
	if m == nil {
		return &Error{Op: "pthread_cond_wait", Err: fmt.Errorf("nil mutex: %w", unix.EINVAL)}
	}
	return c.wait(ctx, condMutex{m})
}

// condMutex adapts Mutex to condLocker: the wait releases and takes the
// mutex without changing its user count, as glibc does.
type condMutex struct{ m *Mutex }

func (l condMutex) Unlock() error { return l.m.condUnlock() }
func (l condMutex) Lock() error   { return l.m.condLock() }
