package pthread

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Thread is the calling goroutine locked to its OS thread, with what a
// mutex's owner is made of (the thread's id, and for a robust mutex its
// robust list head) looked up once, for LockOn, TryLockOn and UnlockOn.
// Go gives a goroutine no cheap way to ask which thread it runs on, so
// Lock and Unlock ask the kernel (gettid, get_robust_list) on every call
// for a mutex with an owner (errorcheck, recursive or robust), and wire
// the goroutine to its thread and unwire it: several times the cost of
// the lock itself. A Thread does this once for many locks.
//
// A Thread belongs to the goroutine that called Self, which stays on its
// thread until Release: only that goroutine may use it (its id would be
// wrong on any other thread, and a robust mutex would be linked into
// another thread's list). A mutex locked with LockOn (or TryLockOn) is
// best unlocked with UnlockOn with the same Thread, but Unlock works too,
// as UnlockOn does for one locked with Lock, and a condition variable's
// wait releases and retakes a mutex held either way: the goroutine stays
// on its Thread's thread throughout.
type Thread struct {
	tid  int32
	head uintptr // the robust list head (0: none usable, or released)
	// held counts the holds of mutexes with an owner taken through the
	// Thread and not yet released: Release refuses while any is held,
	// since the goroutine must stay on the thread that owns them.
	held     int
	released bool
}

// Self locks the calling goroutine to its OS thread
// (runtime.LockOSThread; it nests as that does) and returns the thread,
// for LockOn, TryLockOn and UnlockOn, until Release. It asks the kernel
// for the thread's id (gettid) and robust list head (get_robust_list),
// and registers a head (set_robust_list) for a thread that has none, as
// a robust Lock would: two or three system calls, once. A head that is
// not glibc's nor this package's is left alone, and a robust lock
// through the Thread then fails with EINVAL, as Lock does.
func Self() *Thread {
	runtime.LockOSThread()
	t := &Thread{tid: int32(unix.Gettid())}
	t.robust() // sets t.head, or leaves 0 for the error to be met later
	threads.Lock()
	if threads.byTID == nil {
		threads.byTID = make(map[int32]*Thread)
	}
	// An entry for this id is an outer Self of this goroutine, or the
	// Thread of a dead thread that had this id and was never released
	// (its goroutine exited locked to it): the new one replaces it.
	if _, ok := threads.byTID[t.tid]; !ok {
		threads.live.Add(1)
	}
	threads.byTID[t.tid] = t
	threads.Unlock()
	return t
}

// threads are the live Threads (not released), by thread id: a thread
// runs only the goroutine locked to it, so the Thread of the caller's
// thread, if any, is the caller's (the innermost, if Self was nested;
// an outer one's holds released by Unlock then unwire the goroutine as
// Lock's would). A Thread whose goroutine exited without Release stays
// until a Self on a thread with the same id replaces it; meanwhile an
// Unlock on such a thread (by a goroutine without a Thread) may take a
// dead hold from it and leave its goroutine locked to the thread once
// more than it should be, which costs a thread, not a mutex's safety.
var threads struct {
	sync.Mutex
	byTID map[int32]*Thread
	live  atomic.Int32 // len(byTID), read without the lock
}

// unwire undoes the thread wiring of one hold of a mutex with an owner,
// after an unlock by a goroutine (Unlock, or the condition variable's
// release): a hold counted in the goroutine's Thread, if it has one,
// else the hold's runtime.LockOSThread. So a mutex locked with LockOn and
// unlocked with Unlock, or released by a condition variable's wait,
// leaves the goroutine on its Thread's thread; the condition variable's
// relock then wires it once more (with Lock's runtime.LockOSThread), which
// UnlockOn undoes. Holds are interchangeable: each only says that the
// goroutine must stay on its thread.
func unwire() {
	if threads.live.Load() > 0 {
		tid := int32(unix.Gettid())
		threads.Lock()
		t := threads.byTID[tid]
		threads.Unlock()
		if t != nil && t.held > 0 {
			t.held--
			return
		}
	}
	runtime.UnlockOSThread()
}

// ID returns the thread's id (gettid(2)), which is what glibc and the
// kernel know the owner of a mutex by.
func (t *Thread) ID() int { return int(t.tid) }

// Release ends the Thread: the goroutine is unlocked from its OS thread
// (runtime.UnlockOSThread), and the Thread may no longer be used. It
// must be called by the goroutine that called Self. A Thread through
// which a mutex with an owner (errorcheck, recursive, robust) is still
// held is EBUSY, and stays usable; one already released is EINVAL.
func (t *Thread) Release() error {
	const op = "pthread.Thread.Release"
	if t.released {
		return &Error{Op: op, Err: fmt.Errorf("thread %d released already: %w", t.tid, unix.EINVAL)}
	}
	if t.held != 0 {
		return &Error{Op: op, Err: fmt.Errorf("thread %d holds %d lock(s) of mutexes with an owner: %w", t.tid, t.held, unix.EBUSY)}
	}
	t.released = true
	t.head = 0 // no fast path in LockOn and UnlockOn
	threads.Lock()
	if threads.byTID[t.tid] == t {
		delete(threads.byTID, t.tid)
		threads.live.Add(-1)
	}
	threads.Unlock()
	runtime.UnlockOSThread()
	return nil
}

// check refuses a released Thread.
func (t *Thread) check(op string) error {
	if t.released {
		return &Error{Op: op, Err: fmt.Errorf("thread %d was released: %w", t.tid, unix.EINVAL)}
	}
	return nil
}

// id returns the calling thread's id: t's, or gettid's for nil.
func (t *Thread) id() int32 {
	if t == nil {
		return int32(unix.Gettid())
	}
	return t.tid
}

// owner returns what a mutex without an owner check (normal, adaptive)
// gets in __owner: t's id, as glibc writes, or for nil the process id
// (ownerPID), which needs no system call.
func (t *Thread) owner() int32 {
	if t == nil {
		return ownerPID
	}
	return t.tid
}

// robust returns the calling thread's robust list head, registering one
// if it has none, and its id: t's, looked up on first use, or for nil
// from the kernel (lockerHead).
func (t *Thread) robust() (head uintptr, tid uint32, err error) {
	if t == nil {
		return lockerHead()
	}
	if t.head == 0 {
		h, size, err := threadHead()
		if err != nil {
			return 0, 0, err
		}
		ours := false
		if size == headSize {
			_, ours = headTID(h)
		}
		if !ours {
			if h, err = robustHead(int(t.tid), h, size); err != nil {
				return 0, 0, err
			}
		}
		t.head = h
	}
	return t.head, uint32(t.tid), nil
}

// LockOn is Lock from the goroutine that owns t (see Self), which is
// already locked to its thread: it makes no system call when the mutex is
// free, whatever its type, and does not lock or unlock the goroutine's
// thread again. It returns what Lock returns; a mutex it takes with an
// owner (errorcheck, recursive or robust, including with ErrOwnerDead) is
// counted in t until it is unlocked. A normal mutex gets t's id in
// __owner, as glibc writes it. A nil t is Lock; a released one is EINVAL.
func (m *Mutex) LockOn(t *Thread) error {
	if t != nil && !t.released && m.kind&typeMask == kindTimed && casU32(m.f.lock, 0, 1) {
		// A free normal mutex, as Lock's fast path.
		writeI32(m.f.owner, t.tid)
		addToU32(m.f.nusers, 1)
		return nil
	}
	if t != nil && t.head != 0 && m.kind&kindRobust != 0 {
		// A free robust mutex, as the first round of robustLock: a
		// head, so t was used already and not released (Release
		// clears it).
		f := &m.f
		head := t.head
		setPending(head, uintptr(unsafe.Pointer(f.listNext)))
		if casU32(f.lock, 0, uint32(t.tid)) {
			if loadI32(f.owner) == ownerNotRecoverable {
				return &Error{Op: "pthread_mutex_lock", Err: m.notRecoverable(head)}
			}
			writeU32(f.count, 1)
			enqueue(head, f)
			setPending(head, 0)
			writeI32(f.owner, t.tid)
			addToU32(f.nusers, 1)
			t.held++
			return nil
		}
	}
	return m.lockOn(t)
}

// lockOn is LockOn but for its fast path.
func (m *Mutex) lockOn(t *Thread) error {
	const op = "pthread_mutex_lock"
	if t == nil {
		return m.Lock()
	}
	if t.released {
		return t.check(op)
	}
	w := waiter{direct: true} // t's goroutine is wired to its thread
	err := m.lockWait(&w, false, t)
	w.done()
	if err == nil {
		if m.wires() {
			t.held++
		}
		return nil
	}
	if err == ErrOwnerDead {
		t.held++
	}
	return &Error{Op: op, Err: err}
}

// TryLockOn is TryLock from the goroutine that owns t, as LockOn is Lock.
func (m *Mutex) TryLockOn(t *Thread) (bool, error) {
	const op = "pthread_mutex_trylock"
	if t == nil {
		return m.TryLock()
	}
	if err := t.check(op); err != nil {
		return false, err
	}
	held, err := m.trylock(t)
	if held && m.wires() {
		t.held++
	}
	if err != nil {
		if err == unix.EBUSY {
			return false, nil
		}
		return held, &Error{Op: op, Err: err}
	}
	return held, nil
}

// UnlockOn is Unlock from the goroutine that owns t: it makes no system
// call unless it wakes a waiter. Of a mutex locked with Lock, it also
// undoes Lock's locking of the goroutine to its thread. A nil t is
// Unlock; a released one is EINVAL.
func (m *Mutex) UnlockOn(t *Thread) error {
	if t != nil && !t.released && m.kind&typeMask == kindTimed {
		// A normal mutex, as Unlock.
		writeI32(m.f.owner, 0)
		addToU32(m.f.nusers, ^uint32(0))
		if swapU32(m.f.lock, 0) > 1 {
			futexWakeN(m.f.lock, 1)
		}
		return nil
	}
	if t != nil && t.head != 0 && m.kind&kindRobust != 0 {
		// The consistent robust mutex t holds, as robustUnlock.
		f := &m.f
		if loadU32(f.lock)&futexTIDMask == uint32(t.tid) && loadI32(f.owner) == t.tid {
			if m.kind&typeMask == kindRobust|kindRecursive {
				c := loadU32(f.count) - 1
				writeU32(f.count, c)
				if c != 0 {
					t.unheld()
					return nil
				}
			}
			head := t.head
			setPending(head, uintptr(unsafe.Pointer(f.listNext)))
			dequeue(head, f)
			writeI32(f.owner, 0)
			addToU32(f.nusers, ^uint32(0))
			if swapU32(f.lock, 0)&futexWaiters != 0 {
				futexWakeN(f.lock, 1)
			}
			setPending(head, 0)
			t.unheld()
			return nil
		}
	}
	return m.unlockOn(t)
}

// unlockOn is UnlockOn but for its fast path.
func (m *Mutex) unlockOn(t *Thread) error {
	const op = "pthread_mutex_unlock"
	if t == nil {
		return m.Unlock()
	}
	if t.released {
		return t.check(op)
	}
	if err := m.unlockWired(true, t); err != nil {
		return &Error{Op: op, Err: err}
	}
	if m.wires() {
		t.unheld()
	}
	return nil
}

// unheld counts one lock of a mutex with an owner less in t; if t counts
// none, the mutex was locked with Lock (or TryLock, LockContext), which
// locked the goroutine to its thread once more: that is undone, as Unlock
// would.
func (t *Thread) unheld() {
	if t.held > 0 {
		t.held--
		return
	}
	runtime.UnlockOSThread()
}
