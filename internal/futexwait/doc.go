// Package futexwait waits on futex words — 32-bit words in shared memory
// that another thread or process wakes with FUTEX_WAKE — without holding an
// OS thread per waiting goroutine. Package ring (its futex words) and
// package posixsem (glibc's semaphore word) sleep through it.
//
// # Why
//
// A goroutine in the futex system call holds its thread for the whole
// sleep: 10,000 goroutines blocked on 10,000 rings or semaphores meant
// 10,000 threads, and a Go program stops at 10,000 ("thread exhaustion").
// A Go user expects a wait on shared memory to cost what a wait on a
// channel or a socket costs: a parked goroutine.
//
// # Design
//
// The multiplexer is one io_uring per process. A wait is an
// IORING_OP_FUTEX_WAIT request (Linux 6.7; sqe->addr the word, addr2 the
// expected value, addr3 FUTEX_BITSET_MATCH_ANY, fd the futex2 flags
// FUTEX2_SIZE_U32, plus FUTEX2_PRIVATE for a private word): the kernel
// queues it on the futex exactly as FUTEX_WAIT would, so a plain FUTEX_WAKE
// from a C peer wakes it, and the peer's protocol is unchanged. Any number
// of waits may be in flight; they take no room in the submission or
// completion queues while they sleep. Completions are posted to an eventfd
// registered with the ring (IORING_REGISTER_EVENTFD), which one reaper
// goroutine reads through Go's netpoller: while nothing completes it is a
// parked goroutine, not a thread. The reaper hands each result (0 woken,
// -EAGAIN the value differed, -ECANCELED) to the waiting goroutine over a
// channel. Timeouts are Go timers in the waiting goroutine; a wait that
// times out (or whose caller leaves) is cancelled with IORING_OP_ASYNC_CANCEL
// and its completion awaited before Wait or Close returns, so the kernel no
// longer refers to the word when the caller may unmap it. If the
// cancellation loses the race with a wake-up, Wait reports the wake-up
// (0), not a timeout: no wake-up is lost to a leaving waiter.
//
// futex_waitv (Linux 5.16) was the other candidate; at 128 words per call
// it needs a thread per 127 waiters (79 threads for 10,000, beyond the goal
// of GOMAXPROCS+8), and every new waiter must interrupt and restart a
// thread's call. It is the fallback where io_uring has no futex wait:
// worker goroutines each sleep in futex_waitv on up to 127 words plus a
// private control word, which arm and cancel bump and wake so the worker
// restarts with the new set. futex_waitv reports one woken word per
// return; a worker then also completes every wait whose word no longer
// holds its value, which finds the others, since ring and glibc's
// semaphores change the word before FUTEX_WAKE (a waker that wakes
// without changing the word could lose a wake-up in this mode). A worker
// never reads a word whose wait was cancelled, and a cancellation returns
// only once the worker's futex_waitv call that included the word has
// returned: until then the kernel has a waiter queued on the word, which
// would take a FUTEX_WAKE meant for another sleeper. Idle workers
// beyond the first exit.

// # The hot path stays a system call
//
// A wake through the multiplexer takes more hops (the wake's task work, the
// eventfd, the netpoller, the reaper, the waiter) than a thread woken in
// its own futex call. A hot wait — a ring's reader woken microseconds after
// it sleeps — must not pay them, so the first DefaultDirect concurrent waits
// (SHMMAP_FUTEXWAIT_DIRECT) sleep in their own thread, as before, for at
// most DirectFor (1 ms); a wait that lasts longer moves to the multiplexer
// and frees its slot. Idle waiters thus all end up multiplexed, and at most
// DefaultDirect threads are ever asleep in futex calls for this package.
//
// A ring's reader may wake periodically to check that the writer's
// process is alive (where package ring cannot watch it as an event; it
// can on Linux 5.3 and later, and an idle reader then has no timeout).
// Waiter.Keep leaves the multiplexed wait armed across those timeouts (a
// wake-up in between completes it and is seen by the next Wait), so a
// peer check costs a goroutine wake-up and no system call; at 10,000 idle
// readers checking every 50 ms that is still 200,000 wake-ups a second
// (about half a CPU).
//
// # Fallback and choice
//
// io_uring may be missing (before Linux 6.7 there is no futex wait;
// kernel.io_uring_disabled, or a seccomp filter as in many containers). At
// the first wait the package sets up the ring and checks it end to end (a
// wait whose value differs must complete with -EAGAIN, one that matches
// must sleep until a FUTEX_WAKE); on failure it checks futex_waitv (a word
// whose value differs must give EAGAIN) and uses its workers; failing that,
// every wait is the futex system call in the goroutine's thread, as before.
// Mechanism says which is used and why. The environment variable
// SHMMAP_FUTEXWAIT forces one: "thread" (the escape hatch, and the
// baseline the benchmarks compare with), "waitv", "iouring" (the default
// where it works), or "auto"; SHMMAP_FUTEXWAIT_DIRECT sets the number of
// direct waits (0: every wait multiplexed, as the tests use to exercise the
// multiplexers).
//
// # Limits
//
// The ring, its eventfd and reaper live for the life of the process (two
// file descriptors). Waits are one request each: a burst of N wake-ups is N
// completions, reaped in batches. A goroutine blocked in a multiplexed wait
// does not appear in /proc/PID/task/TID/syscall; Armed counts those waits
// for tests. The io_uring request belongs to the thread that submitted it:
// the kernel runs its completion as task work on that thread (interrupting
// a sleep in the scheduler, transparently restarted). When that thread
// exits (a goroutine ending while locked to its thread) the kernel cancels
// its waits: they return as spurious wake-ups (EINTR), and the caller
// re-checks and waits again.
//
// A lost wake-up (seen once under heavy load, never reproduced: a few
// io_uring futex waits that neither the FUTEX_WAKE nor a completion
// reached) must cost a delay, not a hang. So every two seconds one
// recheck goroutine per process — started by the first parked wait,
// gone once no wait is armed — walks the armed waits of either
// multiplexer (io_uring requests not yet completed, futex_waitv
// registrations) under the lock that guards them, so never a word whose
// wait was released, and loads each word; a wait whose word no longer
// holds its value while no completion came is signalled, cancelled, and
// ends as EAGAIN (or as its completion, if that raced the cancel), and
// the caller re-checks. A parked wait whose word is unchanged is not
// woken and has no timer of its own (only a caller's finite timeout
// arms one): 10,000 idle waits cost one walk every two seconds, a load
// per wait, not 5,000 goroutine wake-ups and timer re-arms a second as a
// timer per wait did. A word that changes and changes back between two
// walks (ABA) is not noticed (the per-wait timer had the same blind
// spot): the net is for a lost wake-up after which the word stays
// changed, as a ring's position counters do.
// The task work may interrupt a system call of that thread that the
// kernel never restarts (msgrcv, semop, epoll_wait) with EINTR; Go code
// retries those anyway, as the runtime's own preemption signals cause the
// same.
package futexwait
