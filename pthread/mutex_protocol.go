package pthread

// The futex protocols of glibc 2.36's mutexes, transcribed from
// nptl/pthread_mutex_lock.c, pthread_mutex_timedlock.c,
// pthread_mutex_trylock.c, pthread_mutex_unlock.c and
// pthread_mutex_cond_lock.c, and the low-level lock of nptl/lowlevellock.c
// and sysdeps/nptl/lowlevellock.h. Go's atomic operations are sequentially
// consistent, stronger than the acquire and release orderings glibc asks
// for; the fields glibc writes plainly (__owner, __count, __nusers) are
// written plainly here too, and read atomically (see atomics.go).

import (
	"context"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/shmmap/shmmap/internal/futexwait"
	"golang.org/x/sys/unix"
)

// waiter is the blocking part of a lock: the context (nil for Lock), its
// deadline, whether the goroutine is wired to its thread (direct: it
// sleeps in the futex system call, see futexSleep), the futexwait.Waiter
// of the other waits and, once the caller first sleeps, the wake-up that
// makes a cancellation without a deadline visible.
type waiter struct {
	ctx      context.Context
	started  bool
	direct   bool
	deadline time.Time
	fw       futexwait.Waiter
	leaving  chan struct{}
	finished chan struct{}
	stop     func() bool
}

// sleep waits on the futex word addr while it holds val. It returns nil
// after any wake-up (the caller tries the mutex again before anything
// else: a wake-up may have been meant for it) and ctx's error once ctx is
// done.
func (w *waiter) sleep(addr *uint32, val uint32) error {
	if w.ctx != nil {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		if !w.started {
			w.started = true
			w.deadline, _ = w.ctx.Deadline()
			if w.ctx.Done() != nil {
				// The wake-up captures the channels, not w, which
				// then stays on the locking goroutine's stack: Lock
				// allocates nothing until it must sleep.
				leaving, finished := make(chan struct{}), make(chan struct{})
				w.leaving, w.finished = leaving, finished
				w.stop = context.AfterFunc(w.ctx, func() {
					defer close(finished)
					wakeUntil(addr, leaving)
				})
			}
		}
	}
	switch e := futexSleep(&w.fw, w.direct, w.leaving != nil, addr, val, w.deadline); e {
	case 0, unix.EAGAIN, unix.EINTR:
		return nil
	case unix.ETIMEDOUT:
		if err := w.ctx.Err(); err != nil {
			return err
		}
		// The futex's timeout passed the deadline a moment before
		// ctx's own timer fired.
		return context.DeadlineExceeded
	default:
		return e
	}
}

// done ends the cancellation wake-ups, if any (the waker touches the
// memory, so it must have stopped before the lock returns), and the
// futexwait.Waiter.
func (w *waiter) done() {
	w.fw.Close()
	if w.stop == nil {
		return
	}
	close(w.leaving)
	if !w.stop() {
		<-w.finished
	}
}

// lllLock is lll_lock (lll_cond_lock when cond: the lock word goes to 2
// at once) with __lll_lock_wait, or lll_clocklock with
// __lll_clocklock_wait when w has a context.
func (m *Mutex) lllLock(w *waiter, cond bool) error {
	start := uint32(1)
	if cond {
		start = 2
	}
	if casU32(m.f.lock, 0, start) {
		return nil
	}
	for swapU32(m.f.lock, 2) != 0 {
		if err := w.sleep(m.f.lock, 2); err != nil {
			return err
		}
	}
	return nil
}

// lllUnlock is lll_unlock: release, and wake one waiter if there may be
// any (the lock word was 2, or, on a robust mutex, anything above 1).
func (m *Mutex) lllUnlock() {
	if swapU32(m.f.lock, 0) > 1 {
		futexWakeN(m.f.lock, 1)
	}
}

// lockWait takes the mutex for the calling goroutine, which is locked to
// its thread if the mutex has an owner; t is that thread, or nil to ask
// the kernel.
func (m *Mutex) lockWait(w *waiter, cond bool, t *Thread) error {
	f := &m.f
	incr := func() {
		if !cond {
			addToU32(f.nusers, 1)
		}
	}
	switch m.kind & typeMask {
	case kindTimed:
		if err := m.lllLock(w, cond); err != nil {
			return err
		}
		writeI32(f.owner, t.owner())
		incr()
		return nil
	case kindAdaptive:
		if cond || !casU32(f.lock, 0, 1) {
			if err := m.adaptiveLock(w, cond); err != nil {
				return err
			}
		}
		writeI32(f.owner, t.owner())
		incr()
		return nil
	case kindRecursive:
		tid := t.id()
		if loadI32(f.owner) == tid {
			c := loadU32(f.count)
			if c+1 == 0 {
				return unix.EAGAIN
			}
			writeU32(f.count, c+1)
			return nil
		}
		if err := m.lllLock(w, cond); err != nil {
			return err
		}
		writeU32(f.count, 1)
		writeI32(f.owner, tid)
		incr()
		return nil
	case kindErrorCheck:
		tid := t.id()
		if loadI32(f.owner) == tid {
			return unix.EDEADLK
		}
		if err := m.lllLock(w, cond); err != nil {
			return err
		}
		writeI32(f.owner, tid)
		incr()
		return nil
	}
	return m.robustLock(w, cond, t)
}

// maxAdaptiveCount is glibc's default glibc.pthread.mutex_spin_count.
const maxAdaptiveCount = 100

// adaptiveLock is the PTHREAD_MUTEX_ADAPTIVE_NP case of
// pthread_mutex_lock after a failed trylock: spin a while, bounded by
// twice the mutex's running average __spins plus 10, then block; and
// update the average. glibc 2.36 adds a random jitter to its spin counts,
// so __spins differs run to run between C and Go as it does between two C
// runs. A timed or condition-variable lock does not spin (nor does
// glibc's).
func (m *Mutex) adaptiveLock(w *waiter, cond bool) error {
	if cond || w.ctx != nil {
		return m.lllLock(w, cond)
	}
	// __spins is a short, read and written plainly (Go has no 16-bit
	// atomics; glibc does not use atomics on it either).
	spins := (*int16)(unsafe.Add(unsafe.Pointer(m.f.lock), offSpins))
	cur := int(*spins)
	maxCnt := min(maxAdaptiveCount, cur*2+10)
	cnt := 0
	for loadU32(m.f.lock) != 0 || !casU32(m.f.lock, 0, 1) {
		cnt++
		if cnt >= maxCnt {
			if err := m.lllLock(w, false); err != nil {
				return err
			}
			break
		}
	}
	*spins = int16(cur + (cnt-cur)/8)
	return nil
}

// lockerHead returns the calling thread's robust list head, registering
// one if it has none, and its thread id: one system call where the head
// is this package's (robustSelf).
func lockerHead() (head uintptr, tid uint32, err error) {
	head, size, tid, ours, err := robustSelf()
	if err == nil && !ours {
		head, err = robustHead(int(tid), head, size)
	}
	return head, tid, err
}

// robustLock is the PTHREAD_MUTEX_ROBUST_* case of
// __pthread_mutex_lock_full (and of __pthread_mutex_clocklock_common and
// __pthread_mutex_cond_lock_full).
func (m *Mutex) robustLock(w *waiter, cond bool, t *Thread) error {
	f := &m.f
	head, tid, err := t.robust()
	if err != nil {
		return err
	}
	setPending(head, uintptr(unsafe.Pointer(f.listNext)))
	// assume is FUTEX_WAITERS once this thread may share that flag with
	// other waiters (from the start for the condition variable's relock).
	var assume uint32
	if cond {
		assume = futexWaiters
	}
	old := loadU32(f.lock)
	for {
		if old == 0 {
			if casU32(f.lock, 0, tid|assume) {
				break
			}
			old = loadU32(f.lock)
			continue
		}
		if old&futexOwnerDied != 0 {
			// The previous owner died: take the mutex, inconsistent.
			newval := tid | old&futexWaiters | assume
			if !casU32(f.lock, old, newval) {
				old = loadU32(f.lock)
				continue
			}
			writeU32(f.count, 1)
			writeI32(f.owner, ownerInconsistent)
			enqueue(head, f)
			setPending(head, 0)
			if cond {
				addToU32(f.nusers, ^uint32(0))
			}
			return ErrOwnerDead
		}
		if old&futexTIDMask == tid {
			switch m.kind & typeMask {
			case kindRobust | kindErrorCheck:
				setPending(head, 0)
				return unix.EDEADLK
			case kindRobust | kindRecursive:
				setPending(head, 0)
				c := loadU32(f.count)
				if c+1 == 0 {
					return unix.EAGAIN
				}
				writeU32(f.count, c+1)
				return nil
			}
			// A robust normal mutex relocked by its owner deadlocks, as
			// in C (LockContext times out).
		}
		if old&futexWaiters == 0 {
			if !casU32(f.lock, old, old|futexWaiters) {
				old = loadU32(f.lock)
				continue
			}
			old |= futexWaiters
		}
		assume |= futexWaiters
		if err := w.sleep(f.lock, old); err != nil {
			setPending(head, 0)
			return err
		}
		old = loadU32(f.lock)
	}
	if loadI32(f.owner) == ownerNotRecoverable {
		return m.notRecoverable(head)
	}
	writeU32(f.count, 1)
	enqueue(head, f)
	setPending(head, 0)
	writeI32(f.owner, int32(tid))
	if !cond {
		addToU32(f.nusers, 1)
	}
	return nil
}

// notRecoverable releases the robust mutex whose lock word the calling
// thread just took, with head list_op_pending, because its __owner says
// it is not recoverable, as glibc does, and returns ErrNotRecoverable.
func (m *Mutex) notRecoverable(head uintptr) error {
	writeU32(m.f.count, 0)
	m.lllUnlock()
	setPending(head, 0)
	return ErrNotRecoverable
}

// trylock is pthread_mutex_trylock: EBUSY when the mutex is taken. t is
// the calling thread, or nil.
func (m *Mutex) trylock(t *Thread) (bool, error) {
	f := &m.f
	switch m.kind & typeMask {
	case kindRecursive:
		tid := t.id()
		if loadI32(f.owner) == tid {
			c := loadU32(f.count)
			if c+1 == 0 {
				return false, unix.EAGAIN
			}
			writeU32(f.count, c+1)
			return true, nil
		}
		if !casU32(f.lock, 0, 1) {
			return false, unix.EBUSY
		}
		writeI32(f.owner, tid)
		writeU32(f.count, 1)
		addToU32(f.nusers, 1)
		return true, nil
	case kindTimed, kindAdaptive, kindErrorCheck:
		if !casU32(f.lock, 0, 1) {
			return false, unix.EBUSY
		}
		owner := t.owner()
		if m.kind&typeMask == kindErrorCheck {
			owner = t.id()
		}
		writeI32(f.owner, owner)
		addToU32(f.nusers, 1)
		return true, nil
	}
	return m.robustTrylock(t)
}

// robustTrylock is the PTHREAD_MUTEX_ROBUST_* case of
// __pthread_mutex_trylock.
func (m *Mutex) robustTrylock(t *Thread) (bool, error) {
	f := &m.f
	head, tid, err := t.robust()
	if err != nil {
		return false, err
	}
	setPending(head, uintptr(unsafe.Pointer(f.listNext)))
	old := loadU32(f.lock)
	for {
		if old&futexOwnerDied != 0 {
			if !casU32(f.lock, old, tid|old&futexWaiters) {
				old = loadU32(f.lock)
				continue
			}
			writeU32(f.count, 1)
			writeI32(f.owner, ownerInconsistent)
			enqueue(head, f)
			setPending(head, 0)
			return true, ErrOwnerDead
		}
		if old&futexTIDMask == tid {
			switch m.kind & typeMask {
			case kindRobust | kindErrorCheck:
				setPending(head, 0)
				return false, unix.EDEADLK
			case kindRobust | kindRecursive:
				setPending(head, 0)
				c := loadU32(f.count)
				if c+1 == 0 {
					return false, unix.EAGAIN
				}
				writeU32(f.count, c+1)
				return true, nil
			}
		}
		if casU32(f.lock, 0, tid) {
			break
		}
		old = loadU32(f.lock)
		if old&futexOwnerDied == 0 {
			if old == 0 {
				continue
			}
			setPending(head, 0)
			return false, unix.EBUSY
		}
	}
	if loadI32(f.owner) == ownerNotRecoverable {
		// glibc 2.36 leaves the lock word taken here (it tests the
		// value the compare-and-swap replaced against the thread id);
		// releasing it is what its lock does and what the comment means.
		writeU32(f.count, 0)
		m.lllUnlock()
		setPending(head, 0)
		return false, ErrNotRecoverable
	}
	enqueue(head, f)
	setPending(head, 0)
	writeI32(f.owner, int32(tid))
	addToU32(f.nusers, 1)
	writeU32(f.count, 1)
	return true, nil
}

// unlockWired is __pthread_mutex_unlock_usercnt(mutex, decr), from
// thread t, or nil to ask the kernel.
func (m *Mutex) unlockWired(decr bool, t *Thread) error {
	f := &m.f
	switch m.kind & typeMask {
	case kindTimed, kindAdaptive:
	case kindRecursive:
		if loadI32(f.owner) != t.id() {
			return unix.EPERM
		}
		c := loadU32(f.count) - 1
		writeU32(f.count, c)
		if c != 0 {
			return nil
		}
	case kindErrorCheck:
		if loadI32(f.owner) != t.id() || loadU32(f.lock) == 0 {
			return unix.EPERM
		}
	default:
		return m.robustUnlock(decr, t)
	}
	writeI32(f.owner, 0)
	if decr {
		addToU32(f.nusers, ^uint32(0))
	}
	m.lllUnlock()
	return nil
}

// robustUnlock is the PTHREAD_MUTEX_ROBUST_* case of
// __pthread_mutex_unlock_full.
func (m *Mutex) robustUnlock(decr bool, t *Thread) error {
	f := &m.f
	// The head is checked (or registered) only for the holder: a
	// non-holder's unlock is EPERM whatever its thread's list. A Thread
	// knows the id and the head. Otherwise, on 64-bit the holder's head
	// is usually found without a system call (unlockerHead); on 32-bit
	// get_robust_list gives it and the thread id at once.
	var head, size uintptr
	var tid uint32
	var ours bool
	var err error
	switch {
	case t != nil:
		tid = uint32(t.tid)
	case is64 == 1:
		tid = uint32(unix.Gettid())
	default:
		if head, size, tid, ours, err = robustSelf(); err != nil {
			return err
		}
	}
	var newOwner int32
	lock := loadU32(f.lock)
	if m.kind&typeMask == kindRobust|kindRecursive {
		if lock&futexTIDMask == tid && loadI32(f.owner) == ownerInconsistent {
			c := loadU32(f.count) - 1
			writeU32(f.count, c)
			if c != 0 {
				return ErrNotRecoverable // still held
			}
			newOwner = ownerNotRecoverable
		} else {
			if loadI32(f.owner) != int32(tid) {
				return unix.EPERM
			}
			c := loadU32(f.count) - 1
			writeU32(f.count, c)
			if c != 0 {
				return nil
			}
		}
	} else {
		if lock&futexTIDMask != tid || lock == 0 {
			return unix.EPERM
		}
		if loadI32(f.owner) == ownerInconsistent {
			newOwner = ownerNotRecoverable
		}
	}
	switch {
	case t != nil:
		if head, _, err = t.robust(); err != nil {
			return err
		}
		ours = true // or glibc's, checked once by t.robust
	case is64 == 1:
		if head, size, ours, err = m.unlockerHead(tid); err != nil {
			return err
		}
	}
	if !ours {
		if head, err = robustHead(int(tid), head, size); err != nil {
			return err
		}
	}
	setPending(head, uintptr(unsafe.Pointer(f.listNext)))
	dequeue(head, f)
	writeI32(f.owner, newOwner)
	if decr {
		addToU32(f.nusers, ^uint32(0))
	}
	if swapU32(f.lock, 0)&futexWaiters != 0 {
		futexWakeN(f.lock, 1)
	}
	setPending(head, 0)
	return nil
}

// unlockerHead returns, on 64-bit, the robust list head of the calling
// thread, whose id is tid and which holds the mutex (its id is in the lock
// word): as robustSelf does, but first without a system call, from the
// mutex itself. A mutex first on a list has that list's head in its
// __list.__prev (ENQUEUE_MUTEX put it there, or DEQUEUE_MUTEX of the
// entry before it). If that is a head of this package's whose slot holds
// tid, the mutex was locked by a thread with the caller's id on the list
// of that id's head: by the caller, whose head it is (this package gives
// every thread id one slot, and the caller, holding a robust mutex of its
// locking, has registered it, or its Lock found glibc's and the mutex's
// __prev would be glibc's head); or by a dead thread with the same id, a
// mutex the caller never locked, which the owner check lets glibc's
// unlock release too: DEQUEUE_MUTEX does not read the head on 64-bit,
// only list_op_pending is set there, in a head that is the caller's or no
// live thread's. Otherwise get_robust_list says (the mutex is not first
// on its list, or the head is glibc's).
func (m *Mutex) unlockerHead(tid uint32) (head, size uintptr, ours bool, err error) {
	prev := atomic.LoadUintptr(m.f.listPrev)
	if t, ok := headTID(prev); ok && t == tid {
		return prev, headSize, true, nil
	}
	if head, size, err = threadHead(); err != nil {
		return 0, 0, false, err
	}
	if size == headSize {
		_, ours = headTID(head)
	}
	return head, size, ours, nil
}
