// Package posixsem implements POSIX semaphores that interoperate with
// glibc's sem_open, sem_post, sem_wait, sem_timedwait, sem_getvalue and
// sem_unlink, in pure Go (system calls through golang.org/x/sys/unix; no
// cgo). A Go process and a C process can wait on and post the same
// semaphore: a C sem_post wakes a Go Wait and a Go Post wakes a C sem_wait.
//
// Named semaphores (Open, Unlink) are the files glibc makes under
// /dev/shm; unnamed process-shared semaphores (Init, At) are a sem_t placed
// by the caller inside shared memory: a System V segment, a MAP_SHARED file
// or POSIX shared memory mapping, or a memfd.
//
// # Names
//
// A name follows glibc's __shm_get_name (posix/shm-directory.c as in glibc
// 2.36, Debian 12's) with the "sem." prefix: leading slashes are skipped;
// an empty name, one containing another slash, or one longer than NAME_MAX
// (255) bytes is EINVAL for Open and ENOENT for Unlink. NAME is then the
// file /dev/shm/sem.NAME, so a name of 252 to 255 bytes is ENAMETOOLONG
// from the kernel. "/job", "job" and "//job" are the same semaphore. (Later
// glibc releases may report a name longer than NAME_MAX as ENAMETOOLONG;
// the tests compare with the glibc they run on.)
//
// # The sem_t layout
//
// sizeof(sem_t) is Size: 32 bytes on 64-bit Linux, 16 on 32-bit; the
// alignment is that of a long (Align). glibc keeps a struct new_sem in it
// (sysdeps/nptl/internaltypes.h). Where the architecture has 64-bit atomic
// operations (__HAVE_64B_ATOMICS: every 64-bit architecture) it is
//
//	offset 0   uint64 data     value in the low 32 bits (SEM_VALUE_MASK),
//	                           nwaiters in the high 32 (SEM_NWAITERS_SHIFT 32)
//	offset 8   int32  private  128 (FUTEX_SHARED) for a process-shared
//	                           semaphore, 0 (FUTEX_PRIVATE) otherwise
//	offset 12  int32  pad      0
//	offset 16  16 bytes        unused, zero in a sem_open file
//
// and the futex word is the 32-bit half of data that holds the value (offset
// 0 on little-endian machines, 4 on big-endian). On 32-bit architectures
// (no 64-bit atomics) it is
//
//	offset 0   uint32 value    value << 1 (SEM_VALUE_SHIFT), bit 0 set while
//	                           there may be waiters (SEM_NWAITERS_MASK)
//	offset 4   int32  private  as above
//	offset 8   int32  pad      0
//	offset 12  uint32 nwaiters the number of waiters
//
// and the futex word is value. SEM_VALUE_MAX is ValueMax (INT_MAX). A
// 32-bit and a 64-bit process cannot share a semaphore, in glibc or here:
// the layouts differ.
//
// # The sem.NAME file
//
// sem_open (nptl/sem_open.c) never shows a half-made semaphore: it creates
// /dev/shm/sem.XXXXXX (six random letters) with O_RDWR|O_CREAT|O_EXCL and
// the caller's mode (the umask applies), writes the whole sem_t (value,
// nwaiters 0, private FUTEX_SHARED, the rest zero), maps it, and link(2)s it
// to /dev/shm/sem.NAME, then unlinks the temporary name. A link failing
// with EEXIST without O_EXCL means another process won the race: the
// existing semaphore is opened instead. Opening an existing one is
// open(O_RDWR|O_NOFOLLOW) plus mmap of sizeof(sem_t) bytes, MAP_SHARED.
// Open does the same; where glibc would map any file and crash on first use
// (SIGBUS on a zero-length file), Open first checks that the file is a
// regular file of exactly Size bytes holding a plausible sem_t and
// otherwise returns an error matching ErrNotSemaphore.
//
// # The futex protocol
//
// On 64-bit (nptl/sem_post.c, nptl/sem_waitcommon.c):
//
//   - Post: CAS data to data+1, failing with EOVERFLOW when the value is
//     SEM_VALUE_MAX; if the nwaiters half of the old data was non-zero,
//     FUTEX_WAKE one waiter on the value word.
//   - Wait, fast path: one CAS of data to data-1 while the value is
//     non-zero (TryWait retries the CAS until it either succeeds or sees 0,
//     and then fails with EAGAIN).
//   - Wait, slow path: atomically add 1<<32 (register as a waiter); then
//     loop: while the value is 0, FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME on
//     the value word expecting 0, with an absolute CLOCK_REALTIME timeout for
//     sem_timedwait (none for sem_wait) and FUTEX_BITSET_MATCH_ANY; once the
//     value is non-zero, CAS data to data-1-(1<<32), taking a token and
//     deregistering in one step. On a timeout, subtract 1<<32 and fail.
//
// On 32-bit the same steps work on value (in units of 2) with bit 0 as the
// "waiters present" flag, nwaiters counted separately, and the flag cleared
// speculatively by the last waiter to leave (__sem_wait_32_finish, which
// wakes the waiters it may have hidden the flag from).
//
// The futex operations are shared (no FUTEX_PRIVATE_FLAG) exactly when the
// private field is FUTEX_SHARED (128): glibc computes the operation as
// (op | FUTEX_PRIVATE_FLAG) ^ private. A semaphore made by sem_open, by
// sem_init with pshared != 0, by Open or by Init is FUTEX_SHARED.
//
// # Go semantics
//
// The waits follow glibc's protocol step for step, but sleep through
// internal/futexwait: a wait that lasts more than a moment parks the
// goroutine in an io_uring futex wait (IORING_OP_FUTEX_WAIT, which glibc's
// FUTEX_WAKE wakes like any futex waiter) instead of holding an OS thread,
// so 10,000 goroutines blocked on semaphores cost a few threads, not 10,000.
// Where io_uring's futex wait is unavailable, or with
// SHMMAP_FUTEXWAIT=thread, each wait is the futex system call in its
// thread. WaitContext's deadline is the context's, measured on Go's
// monotonic clock (sem_timedwait uses an absolute CLOCK_REALTIME timeout,
// which a step of the wall clock moves), and it returns ctx.Err() when it
// gives up; a context cancelled without a deadline is noticed by waking
// the futex's sleepers (every waiter re-checks the value and the others go
// back to sleep, which the protocol allows: a wake-up never loses a token).
// Like sem_timedwait, WaitContext first tries to take a token without
// blocking, so it can succeed even when ctx is already done. Where sem_wait
// would fail with EINTR, Wait and WaitContext retry: signals are the Go
// runtime's business.
//
// Every method is safe for concurrent use. After Close every method returns
// ErrClosed; a Wait already blocked keeps the memory mapped until it
// returns. A memory fault (the file under a named semaphore truncated by
// another process, a segment detached under an unnamed one) is returned as
// an error matching ErrFault instead of crashing the process. Sem is the
// method set, shared with package csem, which calls glibc through cgo and
// serves as the reference in the tests.
package posixsem
