// Package pthread implements glibc's process-shared pthread mutexes in
// pure Go (system calls through golang.org/x/sys/unix; no cgo), so that a
// Go process and a C process lock the same pthread_mutex_t placed in
// shared memory: a System V segment, a MAP_SHARED file or POSIX shared
// memory mapping, or a memfd. Normal, errorcheck and recursive mutexes are
// supported, each optionally robust; priority inheritance and protection
// are refused with ErrUnsupported. The reference is glibc 2.36 (Debian
// 12) on Linux x86-64 and i386; the tests hold every byte Go writes to
// what glibc writes, measured in the same test.
//
// # The pthread_mutex_t layout
//
// sizeof(pthread_mutex_t) is MutexSize (40 bytes on x86-64, 24 on i386),
// aligned as a long (MutexAlign). It holds struct __pthread_mutex_s:
//
//	x86-64: 0 __lock, 4 __count, 8 __owner, 12 __nusers, 16 __kind,
//	        20 __spins, 22 __elision, 24 __list.__prev, 32 __list.__next
//	i386:   0 __lock, 4 __count, 8 __owner, 12 __kind, 16 __nusers,
//	        20 __list.__next (in a union with the elision data)
//
// pthread_mutex_init (and InitMutex) zeroes it and writes __kind: the type
// (0 default or normal, 1 recursive, 2 errorcheck, 3 adaptive), plus 16
// for a robust mutex, 128 (PTHREAD_MUTEX_PSHARED_BIT) for a process-shared
// or robust one, and 512 (PTHREAD_MUTEX_NO_ELISION_NP) when the type was
// set to PTHREAD_MUTEX_NORMAL explicitly. A 32-bit and a 64-bit process
// cannot share a mutex, in glibc or here.
//
// # The futex protocols
//
// A mutex that is not robust is glibc's low-level lock on __lock: 0 free,
// 1 taken, 2 taken with possible waiters. Lock compare-and-swaps 0 to 1,
// or else exchanges in 2 until it reads 0, sleeping in FUTEX_WAIT on the
// value 2 between tries; Unlock exchanges in 0 and, if it read 2, wakes
// one waiter. __owner gets the owner's thread id (the process id for a
// normal mutex locked from Go, see below), __nusers counts the holders and
// __count the recursive depth. A robust mutex keeps the
// owner's thread id in __lock itself, with FUTEX_WAITERS (1<<31) set by
// a waiter before it sleeps and FUTEX_OWNER_DIED (1<<30) set by the
// kernel when the owner dies; the next locker takes the mutex with
// __owner PTHREAD_MUTEX_INCONSISTENT (INT_MAX) and ErrOwnerDead.
// Consistent puts its own thread id back; Unlock without it writes
// PTHREAD_MUTEX_NOTRECOVERABLE (INT_MAX-1), and every later lock fails with
// ErrNotRecoverable. All futex operations are shared ones.
//
// # Owners, goroutines and threads
//
// glibc's owner is a thread: its id is in __owner, and in __lock for a
// robust mutex, where the kernel compares it with the id of a dying
// thread. Goroutines move between threads, so a goroutine that locks a
// mutex with an owner (errorcheck, recursive or robust) is locked to its
// OS thread (runtime.LockOSThread) from a successful Lock, LockContext or
// TryLock (or one returning ErrOwnerDead) to the matching Unlock; these
// calls nest like LockOSThread itself. While it holds the mutex no other
// goroutine runs on that thread, so the owner of the mutex is that
// goroutine: relocking an errorcheck mutex from it is EDEADLK, from
// another goroutine it waits; unlocking from any other goroutine is EPERM;
// a recursive mutex counts the holding goroutine's locks. A goroutine must
// therefore unlock what it locked (as in C, where a thread must). A
// normal mutex has no owner to check: its Lock does not wire the
// goroutine, and, as in glibc, any goroutine may unlock it. glibc writes
// the locking thread's id in its __owner for debuggers and never reads it
// (but to assert that it is 0 when the mutex is taken); Lock writes the
// process id there instead (the id of the process's main thread, which no
// thread of another process has), so that it needs no system call: asking
// the kernel for the thread's id would cost several times the lock.
//
// # Threads: locking without system calls
//
// Go gives a goroutine no cheap way to learn which thread it runs on (its
// id is a system call, gettid, and this package reads no runtime
// internals), so Lock and Unlock of a mutex with an owner ask the kernel:
// gettid for errorcheck and recursive, get_robust_list (which gives the
// head and, from its slot, the id) for robust; two system calls per
// lock+unlock, each several times the cost of glibc's whole lock+unlock.
// A cache keyed by something a thread can read without a system call
// (its TLS base, FS on x86-64) is not sound: the Go runtime frees the
// structure behind a dead thread's TLS base before the kernel has
// processed the thread's exit, so a new thread can come to have the same
// base while the old one's robust list is still live. Self is the sound
// way: it locks the goroutine to its thread and looks the id and the
// robust list head up once, in a Thread that the goroutine then passes to
// LockOn, TryLockOn and UnlockOn, which make no system call for a free
// mutex (nor wire or unwire the goroutine), as glibc's. A Thread is the
// goroutine's own, like a C thread's self: only it may use it. Holds
// taken through it and holds taken with Lock are interchangeable (each
// keeps the goroutine on its thread), so Unlock, UnlockOn and a condition
// variable's wait may release either. With a Thread a normal mutex's
// __owner gets the thread's id, exactly as glibc's.
//
// # Robust mutexes and owner death
//
// When a thread exits or its process dies, the kernel walks the thread's
// robust list (set_robust_list(2)) and, for every mutex on it whose
// __lock holds the thread's id, sets FUTEX_OWNER_DIED and wakes a waiter.
// glibc registers a robust list head for every thread it makes and links
// each robust mutex a thread holds through the mutex's __list field
// (doubly linked on x86-64, singly on i386; the head's futex_offset
// leads from &__list.__next back to __lock); list_op_pending names a
// mutex being locked or unlocked, so that a death halfway is handled too.
//
// A Go program without cgo has no glibc, and its threads have no robust
// list. So a goroutine locking a robust mutex (or calling Self), once
// wired to its thread, asks the kernel for the thread's head
// (get_robust_list) and, if there is none, registers one for the thread:
// a head in memory outside the Go heap that is never freed (a few words
// per thread that ever held a robust mutex or called Self), found again
// by thread id. The head's slot keeps the registering thread's id, so
// that one get_robust_list gives a later lock both the head and the id
// (the kernel gives a thread only the head it registered itself); on
// 64-bit, Unlock finds the head from the mutex's __list.__prev when the
// mutex is first on the list. It then locks and
// links the mutex exactly as glibc does (list_op_pending, ENQUEUE_MUTEX,
// DEQUEUE_MUTEX). Since each holder goroutine is wired to its own thread,
// a process with many goroutines holding different robust mutexes has
// each on the list of the holder's thread, and every one is released
// when the process dies, however it dies (SIGKILL included). A goroutine
// that exits while wired (holding a mutex) makes the Go runtime end its
// thread, which also releases its robust mutexes, as a C thread exiting
// would.
//
// In a program with cgo, threads made by glibc (the Go runtime's own,
// with cgo, are made with pthread_create) already have glibc's head. It
// has the same layout and futex offset, so this package links its
// mutexes into that list, as glibc itself would, and C code on the same
// thread keeps working with it. A head of another size or futex offset
// (a foreign runtime) makes the robust lock fail with EINVAL rather than
// replace it. Limits: a thread id seen by the kernel is that of the
// process's PID namespace, as for glibc; a robust list walk stops after
// 2048 entries (ROBUST_LIST_LIMIT), per thread; and the addresses linked
// in __list are this process's, so a mutex must stay mapped, at the same
// address, while held (as in C).
//
// # Contexts
//
// LockContext is pthread_mutex_clocklock with ctx's deadline as the
// futex's timeout, measured on Go's monotonic clock rather than as
// glibc's absolute CLOCK_REALTIME time (a context's deadline is a Go time,
// and its own timer fires on that clock; a jump of the wall clock moves
// neither). A cancellation, which the
// futex cannot see, is noticed by waking the futex's sleepers (every
// waiter re-checks, and the others sleep again) until the cancelled
// waiter has left; a waiter woken always tries the mutex before it looks
// at ctx, so no wake-up meant to pass the mutex on is lost. Where glibc
// would fail with EINTR the lock retries: signals are the Go runtime's.
//
// # Waiting
//
// A goroutine that must wait sleeps on the futex word in FUTEX_WAIT, with
// the shared futex operations glibc uses (and FUTEX_PRIVATE_FLAG for a
// condvar that is not process-shared, as glibc), so a C peer's FUTEX_WAKE
// wakes it and the protocols are glibc's unchanged. Normal (and
// adaptive) mutex waits and condition-variable waits go through
// internal/futexwait: a wait that lasts more than a moment parks the
// goroutine, not its thread (io_uring's IORING_OP_FUTEX_WAIT, completed
// through the netpoller; futex_waitv workers, a thread per 127 waits,
// where io_uring has no futex wait; the thread itself where neither
// works, or with SHMMAP_FUTEXWAIT=thread), so 10,000 goroutines blocked
// in Lock or Cond.Wait hold a handful of threads, not 10,000. Every
// waker changes the word before its FUTEX_WAKE (lock word, __g_signals,
// __g_refs, the condvar's internal lock), which futex_waitv's workers
// rely on; the wake-ups that announce a cancelled context do not, and
// repeat until the cancelled waiter has left. A goroutine wired to its thread while it waits (a robust,
// errorcheck or recursive mutex, whose owner is the thread, or LockOn's
// Thread) sleeps in the futex system call itself: its thread is held
// whatever it does, and the multiplexer would only add hops to its
// wake-up. So robust waiters still cost a thread each; they are few
// (each holds a robust list and wires its goroutine anyway).
//
// # Condition variables
//
// Cond speaks glibc's condvar algorithm (2.25 and later, with __g_refs as
// in 2.36): waiters take a position in __wseq and sleep on __g_signals[g]
// of their group; signalers fill G1 and switch groups under the lock kept
// in __g1_orig_size's low bits; __wrefs bit 0 marks a process-shared
// condvar, bit 1 CLOCK_MONOTONIC, and each waiter adds 8. On 32-bit the
// 64-bit counters are two 31-bit halves, as glibc keeps them there.
// WaitContext measures deadlines on Go's monotonic clock, as LockContext
// does (the condvar's clock, Clock, is for C's timed waits on it); a wait
// that gives up still retakes the mutex, as POSIX requires. mutex.go documents the
// two unexported methods through which Cond releases and retakes a mutex
// as glibc's pthread_cond_wait does (__nusers untouched, the low-level
// lock retaken as 2).
//
// # Architectures
//
// The layouts and protocols are tested on x86-64 and i386 only. The
// package builds for the other 64-bit architectures, whose
// struct __pthread_mutex_s has the x86-64 offsets, but nothing there is
// checked against their glibc (aarch64's pthread_mutex_t is 48 bytes, of
// which the first 40 are the struct).
package pthread
