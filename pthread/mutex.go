package pthread

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// MutexType is the type of a mutex, as given to pthread_mutexattr_settype.
type MutexType int

const (
	// MutexDefault is the type of a mutexattr that was only initialised
	// (pthread_mutexattr_init; PTHREAD_MUTEX_DEFAULT): a normal mutex,
	// __kind 0 before the shared and robust bits.
	MutexDefault MutexType = iota
	// MutexNormal is PTHREAD_MUTEX_NORMAL set with
	// pthread_mutexattr_settype, which glibc records with the
	// PTHREAD_MUTEX_NO_ELISION_NP bit (512): it behaves as MutexDefault.
	// Relocking it deadlocks, as in C; unlocking it when not locked, or
	// from another goroutine, is not checked.
	MutexNormal
	// MutexErrorCheck is PTHREAD_MUTEX_ERRORCHECK: relocking by the owner
	// fails with EDEADLK and unlocking by anyone else with EPERM.
	MutexErrorCheck
	// MutexRecursive is PTHREAD_MUTEX_RECURSIVE: the owner may lock it
	// again; it is released by as many unlocks.
	MutexRecursive
	// MutexAdaptive is PTHREAD_MUTEX_ADAPTIVE_NP, glibc's spinning normal
	// mutex; Go takes it as a normal mutex (the spinning is C's affair).
	MutexAdaptive
)

// Protocol is the priority protocol of a mutex
// (pthread_mutexattr_setprotocol).
type Protocol int

const (
	// ProtocolNone is PTHREAD_PRIO_NONE, the default.
	ProtocolNone Protocol = iota
	// ProtocolInherit is PTHREAD_PRIO_INHERIT (FUTEX_LOCK_PI): not
	// implemented; InitMutex and MutexAt refuse it with ErrUnsupported.
	ProtocolInherit
	// ProtocolProtect is PTHREAD_PRIO_PROTECT: not implemented; refused
	// with ErrUnsupported.
	ProtocolProtect
)

// MutexAttr describes a mutex as a pthread_mutexattr_t does. Every mutex
// of this package is process-shared (PTHREAD_PROCESS_SHARED).
type MutexAttr struct {
	Type     MutexType
	Robust   bool // PTHREAD_MUTEX_ROBUST
	Protocol Protocol
}

func (t MutexType) String() string {
	switch t {
	case MutexDefault:
		return "default"
	case MutexNormal:
		return "normal"
	case MutexErrorCheck:
		return "errorcheck"
	case MutexRecursive:
		return "recursive"
	case MutexAdaptive:
		return "adaptive"
	}
	return fmt.Sprintf("MutexType(%d)", int(t))
}

func (p Protocol) String() string {
	switch p {
	case ProtocolNone:
		return "none"
	case ProtocolInherit:
		return "inherit"
	case ProtocolProtect:
		return "protect"
	}
	return fmt.Sprintf("Protocol(%d)", int(p))
}

// kindOf is the __kind pthread_mutex_init writes for attr with
// PTHREAD_PROCESS_SHARED.
func kindOf(attr MutexAttr) (int32, error) {
	var k int32
	switch attr.Type {
	case MutexDefault:
		k = kindTimed
	case MutexNormal:
		k = kindTimed | kindNoElision
	case MutexErrorCheck:
		k = kindErrorCheck
	case MutexRecursive:
		k = kindRecursive
	case MutexAdaptive:
		k = kindAdaptive
	default:
		return 0, fmt.Errorf("mutex type %v: %w", attr.Type, unix.EINVAL)
	}
	switch attr.Protocol {
	case ProtocolNone:
	case ProtocolInherit:
		return 0, fmt.Errorf("%w: priority inheritance (PTHREAD_PRIO_INHERIT) is not implemented", ErrUnsupported)
	case ProtocolProtect:
		return 0, fmt.Errorf("%w: priority protection (PTHREAD_PRIO_PROTECT) is not implemented", ErrUnsupported)
	default:
		return 0, fmt.Errorf("protocol %d: %w", int(attr.Protocol), unix.EINVAL)
	}
	if attr.Robust {
		k |= kindRobust
	}
	return k | kindPshared, nil
}

// Mutex is a glibc pthread_mutex_t in shared memory, process-shared, that
// Go and C processes lock and unlock together. Get one with InitMutex or
// MutexAt. Its methods are safe for concurrent use by goroutines of any
// number of processes; see the package documentation for what owning one
// means for a goroutine.
type Mutex struct {
	mem  []byte // keeps the caller's memory reachable
	f    fields
	kind int32 // __kind, read once
}

// checkMemory validates memory for a pthread_mutex_t.
func checkMemory(mem []byte) error {
	if len(mem) < MutexSize {
		return fmt.Errorf("%d bytes of memory, a pthread_mutex_t needs %d: %w", len(mem), MutexSize, unix.EINVAL)
	}
	if addr := uintptr(unsafe.Pointer(&mem[0])); addr%MutexAlign != 0 {
		return fmt.Errorf("memory at %#x is not %d-byte aligned as a pthread_mutex_t must be: %w", addr, MutexAlign, unix.EINVAL)
	}
	return nil
}

// InitMutex is pthread_mutex_init with a process-shared mutexattr like
// attr: it makes the first MutexSize bytes of mem an unlocked mutex,
// writing what glibc writes (zeroes but for __kind), and returns it. mem
// must be shared memory (a System V segment, a MAP_SHARED mapping, a
// memfd) for other processes to use it, aligned to MutexAlign. Memory too
// short or misaligned, or an unknown type, is EINVAL; priority inheritance
// or protection is ErrUnsupported. Like pthread_mutex_init, it must not be
// called on a mutex in use.
func InitMutex(mem []byte, attr MutexAttr) (*Mutex, error) {
	const op = "pthread_mutex_init"
	if err := checkMemory(mem); err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	kind, err := kindOf(attr)
	if err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	m := &Mutex{mem: mem[:MutexSize:MutexSize], f: fieldsAt(unsafe.Pointer(&mem[0])), kind: kind}
	clear(m.mem)
	atomic.StoreInt32(m.f.kind, kind)
	return m, nil
}

// MutexAt returns the mutex that pthread_mutex_init (with
// PTHREAD_PROCESS_SHARED or PTHREAD_MUTEX_ROBUST) or InitMutex placed at
// the start of mem, after validating it. Memory too short or misaligned
// is EINVAL; a mutex that is not process-shared (all-zero memory
// included) is ErrNotShared; a priority-inheritance or -protection mutex,
// or memory that holds no glibc mutex (an unknown __kind, a lock word or
// owner no glibc mutex has), is ErrUnsupported. MutexAt only reads the
// memory: it never blocks and never writes.
func MutexAt(mem []byte) (*Mutex, error) {
	const op = "pthread.MutexAt"
	if err := checkMemory(mem); err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	f := fieldsAt(unsafe.Pointer(&mem[0]))
	kind := atomic.LoadInt32(f.kind)
	if err := checkKind(kind); err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	lock := atomic.LoadUint32(f.lock)
	if kind&kindRobust == 0 && lock > 2 {
		return nil, &Error{Op: op, Err: invalid("lock word %#x: a mutex that is not robust has 0, 1 or 2", lock)}
	}
	if owner := atomic.LoadInt32(f.owner); owner < 0 {
		return nil, &Error{Op: op, Err: invalid("owner %d: thread ids are positive", owner)}
	}
	return &Mutex{mem: mem[:MutexSize:MutexSize], f: f, kind: kind}, nil
}

// checkKind validates a __kind.
func checkKind(kind int32) error {
	const known = typeMask | kindPshared | kindElision | kindNoElision
	if kind&^known != 0 {
		return invalid("__kind %#x has bits no glibc mutex has", uint32(kind))
	}
	if kind&(kindElision|kindNoElision) == kindElision|kindNoElision {
		return invalid("__kind %#x asks for lock elision and forbids it", uint32(kind))
	}
	if kind&kindPrioInherit != 0 {
		return fmt.Errorf("%w: __kind %#x is a priority-inheritance mutex (PTHREAD_PRIO_INHERIT), not implemented", ErrUnsupported, uint32(kind))
	}
	if kind&kindPrioProtect != 0 {
		return fmt.Errorf("%w: __kind %#x is a priority-protection mutex (PTHREAD_PRIO_PROTECT), not implemented", ErrUnsupported, uint32(kind))
	}
	switch t := kind & typeMask; {
	case t&^(kindRobust|kindMask) != 0:
		return invalid("__kind %#x is no mutex type of glibc's", uint32(kind))
	case kind&kindElision != 0 && t != kindTimed:
		return invalid("__kind %#x: only a normal mutex is elided", uint32(kind))
	}
	if kind&kindPshared == 0 {
		return fmt.Errorf("%w: __kind %#x lacks PTHREAD_MUTEX_PSHARED_BIT (made with PTHREAD_PROCESS_PRIVATE, or never initialised)", ErrNotShared, uint32(kind))
	}
	return nil
}

// Attr returns the attributes of the mutex, as read from its __kind.
func (m *Mutex) Attr() MutexAttr {
	a := MutexAttr{Robust: m.kind&kindRobust != 0}
	switch m.kind & kindMask {
	case kindTimed:
		a.Type = MutexDefault
		if m.kind&kindNoElision != 0 {
			a.Type = MutexNormal
		}
	case kindRecursive:
		a.Type = MutexRecursive
	case kindErrorCheck:
		a.Type = MutexErrorCheck
	case kindAdaptive:
		a.Type = MutexAdaptive
	}
	return a
}

// wires reports whether holding the mutex wires the goroutine to its
// thread: robust, errorcheck and recursive mutexes have an owner.
func (m *Mutex) wires() bool {
	t := m.kind & typeMask
	return t&kindRobust != 0 || t == kindErrorCheck || t == kindRecursive
}

// Lock is pthread_mutex_lock: it blocks until the mutex is the caller's.
// On a robust mutex whose owner died it returns an error matching
// ErrOwnerDead with the mutex held; a not recoverable one is
// ErrNotRecoverable. An errorcheck mutex the calling goroutine holds is
// EDEADLK; a recursive one is counted (EAGAIN when the count would
// overflow). For a mutex with an owner (robust, errorcheck, recursive),
// a successful Lock, and one returning ErrOwnerDead, leaves the goroutine
// locked to its OS thread (runtime.LockOSThread) until the matching
// Unlock.
func (m *Mutex) Lock() error {
	// The uncontended normal (or default) mutex first, as glibc's
	// LLL_MUTEX_LOCK_OPTIMIZED and the owner record after it (__owner is
	// the process id, see ownerPID): one call, no system call, like
	// glibc's. (Inlining it into the caller is out of reach: the call of
	// the slow path alone takes most of the compiler's inlining budget.)
	if m.kind&typeMask == kindTimed && casU32(m.f.lock, 0, 1) {
		writeI32(m.f.owner, ownerPID)
		addToU32(m.f.nusers, 1)
		return nil
	}
	return m.lockSlow()
}

// lockSlow is Lock after its inlined fast path.
func (m *Mutex) lockSlow() error {
	return m.lock("pthread_mutex_lock", nil, false)
}

// LockContext is pthread_mutex_clocklock with ctx's deadline as the
// timeout, measured on Go's monotonic clock (as ctx's own timer is; glibc
// would take an absolute CLOCK_REALTIME time): Lock that gives up,
// returning ctx.Err(), when ctx is done first. Like
// pthread_mutex_clocklock it first tries to take the mutex, so it can
// succeed with ctx already done. A context cancelled before its deadline
// (or one without) is noticed promptly: the futex's sleepers are woken until this one has left (the
// others find the mutex still held and sleep again).
func (m *Mutex) LockContext(ctx context.Context) error {
	return m.lock("pthread_mutex_clocklock", ctx, false)
}

// TryLock is pthread_mutex_trylock: it takes the mutex if that needs no
// waiting and reports whether it did. A mutex held by another thread is
// (false, nil), where C sees EBUSY. As with Lock, it may return true with
// an error matching ErrOwnerDead, and false with ErrNotRecoverable, or
// with EDEADLK for a robust errorcheck mutex the goroutine holds
// (glibc's non-robust errorcheck trylock says busy then).
func (m *Mutex) TryLock() (bool, error) {
	wired := m.wires()
	if wired {
		runtime.LockOSThread()
	}
	held, err := m.trylock(nil)
	if wired && !held {
		runtime.UnlockOSThread()
	}
	if err != nil {
		if errors.Is(err, unix.EBUSY) {
			return false, nil
		}
		return held, &Error{Op: "pthread_mutex_trylock", Err: err}
	}
	return held, nil
}

// Unlock is pthread_mutex_unlock. An errorcheck, recursive or robust
// mutex that the calling goroutine does not hold is EPERM. Unlocking a
// robust mutex still inconsistent (after ErrOwnerDead, without
// Consistent) makes it not recoverable: every later Lock, in C or Go,
// fails with ENOTRECOVERABLE. glibc returns 0 then, and so does Unlock.
func (m *Mutex) Unlock() error {
	// The normal (or default) mutex first, as glibc's unlock: clear the
	// owner, count one user less, release; unlockFrom wakes a waiter if
	// the lock word said there may be one (2).
	if m.kind&typeMask == kindTimed {
		writeI32(m.f.owner, 0)
		addToU32(m.f.nusers, ^uint32(0))
		if swapU32(m.f.lock, 0) <= 1 {
			return nil
		}
	}
	return m.unlockFrom()
}

// unlockFrom is Unlock after its inlined fast path: a normal mutex
// released with a waiter to wake, or any other mutex.
func (m *Mutex) unlockFrom() error {
	if m.kind&typeMask == kindTimed {
		futexWakeN(m.f.lock, 1)
		return nil
	}
	if err := m.unlock(true); err != nil {
		return &Error{Op: "pthread_mutex_unlock", Err: err}
	}
	return nil
}

// Consistent is pthread_mutex_consistent: it marks a robust mutex that
// Lock returned with ErrOwnerDead consistent again, so that Unlock leaves
// it usable. Any other mutex, or one that is not inconsistent, is EINVAL.
func (m *Mutex) Consistent() error {
	if m.kind&kindRobust == 0 || atomic.LoadInt32(m.f.owner) != ownerInconsistent {
		return &Error{Op: "pthread_mutex_consistent", Err: unix.EINVAL}
	}
	writeI32(m.f.owner, int32(unix.Gettid()))
	return nil
}

// Hooks for the condition variable (cond.go), which must release and
// retake the mutex as glibc's pthread_cond_wait does:
//
//   - m.condUnlock() is __pthread_mutex_unlock_usercnt(mutex, 0): Unlock
//     without decrementing __nusers. It returns an error as Unlock does
//     (EPERM for a mutex with an owner that the goroutine does not hold).
//   - m.condLock() is __pthread_mutex_cond_lock: Lock without
//     incrementing __nusers, leaving the normal lock word at 2 (and a
//     robust one with FUTEX_WAITERS), since other waiters may sleep on it.
//     It may return an error matching ErrOwnerDead (held) or
//     ErrNotRecoverable, like Lock.
//
// Both keep the goroutine's thread wiring balanced as Lock and Unlock do.

// condUnlock: see the hooks above.
func (m *Mutex) condUnlock() error {
	if err := m.unlock(false); err != nil {
		return &Error{Op: "pthread_mutex_unlock", Err: err}
	}
	return nil
}

// condLock: see the hooks above.
func (m *Mutex) condLock() error {
	return m.lock("pthread_mutex_lock", nil, true)
}

// lock wires the goroutine to its thread where the mutex has an owner and
// takes the mutex; cond is __pthread_mutex_cond_lock.
func (m *Mutex) lock(op string, ctx context.Context, cond bool) error {
	wired := m.wires()
	if wired {
		runtime.LockOSThread()
	}
	w := waiter{ctx: ctx, direct: wired}
	err := m.lockWait(&w, cond, nil)
	w.done()
	if err == nil {
		return nil
	}
	if wired && !errors.Is(err, ErrOwnerDead) {
		runtime.UnlockOSThread()
	}
	if ctx != nil && (err == ctx.Err() || errors.Is(err, context.DeadlineExceeded)) {
		return err
	}
	return &Error{Op: op, Err: err}
}

// unlock releases the mutex; decr is false for the condition variable.
func (m *Mutex) unlock(decr bool) error {
	err := m.unlockWired(decr, nil)
	if m.wires() && !errors.Is(err, unix.EPERM) {
		unwire()
	}
	return err
}
