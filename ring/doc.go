// Package ring is a single-producer/single-consumer message ring in shared
// memory: one process writes typed, variable-length messages, another reads
// them in order, through any []byte both map — a System V segment
// (shmmap.Attachment.Bytes), a file or POSIX shm object (shmmap.Mapping.Bytes),
// a memfd. The byte layout is fixed and documented here and in LAYOUT.md, and
// cring/ring.h implements the same layout and protocol in C, so a C process
// and a Go process can sit on either end.
//
// # Use
//
//	r, err := ring.Init(mem)               // one process formats the memory,
//	r, err := ring.AttachContext(ctx, mem) // the other validates it (waiting for Init)
//
//	p, err := r.Producer()                // in the writing process
//	err = p.WriteContext(ctx, typ, msg)   // waits while the ring is full
//	err = p.Close()                       // the consumer then reads to io.EOF
//
//	c, err := r.Consumer()                 // in the reading process
//	typ, n, err := c.ReadContext(ctx, buf) // waits while the ring is empty
//
// TryWrite and TryRead never block (ErrFull, ErrEmpty). TryClaim/Commit and
// ReadFunc write and read in place. WriteBatch and ReadBatch (and their Try
// forms) move many messages per call and pay for the cross-core traffic of
// the positions once per batch: the producer publishes a batch with one
// store of its position, the consumer frees one with one store of its own. A blocked call spins briefly, then
// sleeps on a futex in the shared memory until the other side wakes it, so
// an idle ring costs no CPU; a sleep that lasts parks the goroutine in an
// io_uring futex wait rather than holding an OS thread (internal/futexwait:
// 10,000 blocked readers cost a few threads; SHMMAP_FUTEXWAIT=thread, or a
// kernel without IORING_OP_FUTEX_WAIT, gives a thread per sleeper). If the
// other process dies without closing, the call returns an error wrapping
// ErrPeerDead (messages it published first are still delivered): the
// death is an event (a pidfd per peer process, watched through Go's
// netpoller), so an idle blocked call costs no periodic wake-up while its
// peer lives (see "Noticing a dead peer" below).
// When the other side is a goroutine of the same process (its pid word
// holds ours), a blocked call does not spin and does not sleep on the
// futex: it parks on a Go channel and the other side's wake-up hands it
// over as a channel send would, to run next on the waker's CPU, with no
// system call (see lot.go; in-process request/response at 1.4 MB then
// takes the time of its two copies, BenchmarkPingPong in bench/). The
// futex word's protocol is the same, so other processes and C see no
// difference; SHMMAP_RING_LOT=off turns this off.
// Errors wrap the sentinels ErrFull, ErrEmpty, ErrPeerDead, ErrCorrupt,
// ErrTooLarge, ErrClosed, ErrNotReady, ErrInUse and ErrInvalid; the clean
// end of a stream is io.EOF.
//
// # Layout
//
// All integers are in the machine's byte order (both processes run on one
// machine). The memory starts with a 512-byte header; the data area of
// capacity bytes (a power of two, 64 to 1 GiB) follows, so a ring takes
// Size(capacity) = 512 + capacity bytes. The memory must be 8-byte aligned
// (the start of any segment or mapping is page-aligned).
//
//	offset  size  field
//	0x000   u32   magic 0x474E5253 ("SRNG" little-endian); written last by Init
//	0x004   u32   version = 1
//	0x008   u32   header length = 512 (the data area's offset)
//	0x00C   u32   capacity, a power of two, 64..2^30
//	0x010   u32   max message = capacity - 8
//	0x014         zero to 0x040
//	0x040   u32   producer pid: 0 none yet, a pid, or 0xFFFFFFFF closed
//	0x044   u32   consumer pid: the same
//	0x048         zero to 0x080
//	0x080   u64   producer position (tail); its own 128 bytes to 0x100
//	0x100   u64   consumer position (head); its own 128 bytes to 0x180
//	0x180   u32   consumer-sleeping futex word; alone on its 64-byte line
//	0x1C0   u32   producer-sleeping futex word; alone on its 64-byte line
//	0x200         data area, capacity bytes
//
// Positions count bytes written (tail) and consumed (head) since Init; they
// only grow (2^64 bytes never wrap in practice) and are multiples of 8. A
// position's offset in the data area is position & (capacity-1); the bytes
// in use are tail - head, never more than capacity. Only the producer
// stores the tail, only the consumer the head, and each lives on its own
// pair of cache lines (as Agrona does, against adjacent-line prefetch) so
// the two never share one.
//
// A record is an 8-byte header — u32 length (header + payload, unaligned),
// u32 type — and the payload, the whole padded to a multiple of 8. A record
// never wraps: when the next one does not fit before the end of the data
// area, the producer fills the rest with a padding record (type 0xFFFFFFFF,
// length = the bytes left to the end) and starts the record at offset 0.
// The largest payload is capacity - 8; type 0xFFFFFFFF is reserved.
//
// # Protocol
//
// The producer writes a record's header and payload, then publishes it by
// storing the new tail (a sequentially consistent atomic store); the
// consumer loads the tail, reads the records before it, and frees them by
// storing the new head. A record is visible only once the tail passes it,
// so a producer killed mid-write leaves nothing half-written for the
// consumer. Before trusting a header the consumer checks it against the
// ring (length at least 8, the padded record inside both the data area and
// tail - head, padding only where it reaches the end exactly) and against
// the positions (tail - head <= capacity, both aligned); anything else is
// ErrCorrupt, never an out-of-range access or an endless loop.
//
// Sleeping: a side that finds the ring empty (consumer) or full (producer)
// spins a little, then stores 1 into its futex word, re-checks the other
// side's position, and calls FUTEX_WAIT(word, 1) — the shared futex, not
// FUTEX_PRIVATE, since the waker is another process. After every store of
// its position, each side loads the other's futex word and, if it is 1,
// swaps it to 0 and calls FUTEX_WAKE. Both the stores and the loads are
// sequentially consistent, so either the sleeper's re-check sees the new
// position or the waker sees the 1: no lost wake-up, and no wake system
// call while nobody sleeps. A sleeper whose peer's pid word names a
// process that exits (a zombie not yet reaped counts as dead) returns
// ErrPeerDead: see "Noticing a dead peer". Init wakes everyone sleeping on
// the magic word (AttachContext).
//
// Spinning through a wake-up: in request/response between two processes,
// the side that has just woken its sleeping peer with FUTEX_WAKE then
// waits for that peer's answer, which cannot come before the peer has
// woken up: on a virtual machine whose other CPU went idle, tens of
// microseconds, longer than the counted spin. If it slept meanwhile, the
// peer would have to wake it in turn, and from one late answer on each
// side would sleep through the other's wake-up round trip after round
// trip (in one measured run of 300,000 64-byte round trips between a Go
// and a C process, 1,446 sleeps, and 1.2 µs per round trip instead of
// 0.7). So a blocked call whose peer is another process keeps spinning
// (yield turns) until 50 µs have passed since this process's last
// FUTEX_WAKE (or its context's deadline, if sooner); with that, the same
// runs slept 0 to 8 times. A call whose last such spin went unanswered
// does not spin so again until one of its waits ends within the counted
// spin, so a slow peer costs one such spin, not one per wait. SetSpin(0,
// 0) turns it off with the rest of the spin. The C ring (cring/ring.h)
// does the same (wake_spin_us).
//
// Roles: Producer and Consumer store this process's pid into their pid
// word (compare-and-swap from 0, from closed, or from a pid whose process
// is gone), and Close stores 0xFFFFFFFF: the consumer reads what is left
// and then gets io.EOF; the producer's writes fail with ErrClosed. The Go
// Producer and Consumer then wake the other side if it sleeps (swap its
// word to 0, FUTEX_WAKE), so that it re-checks and watches the new peer;
// cring/ring.h does not, and needs not: the wake-up is only a hint.
//
// # Noticing a dead peer
//
// A sleeping call whose peer is another process registers, for as long as
// it sleeps, with this process's watch of that pid: one pidfd
// (pidfd_open, Linux 5.3) and one goroutine per distinct peer pid, shared
// by every call waiting on that peer, whatever the ring. The goroutine
// waits for the pidfd to poll readable — the peer has exited — parked in
// Go's netpoller (no thread, no timer), then sets the futex word of each
// registered call to 0 and wakes it with FUTEX_WAKE, as a context
// cancellation does; the call takes a last look at the ring (the peer may
// have published before dying) and returns ErrPeerDead. Such a sleep has
// no timeout: 10,000 calls blocked on rings whose peer lives cost one
// pidfd, one parked goroutine and no wake-up (TestPeerWatchIdleReaders),
// where checking every 50 ms cost 200,000 goroutine wake-ups a second
// (BenchmarkWakeLatency in bench/). A watch outlives its last call by
// 100 ms, so that a busy ring does not open a pidfd per sleep. The C
// peer's protocol is unchanged: it sees the same futex words and wakes.
//
// The pid word is the peer's identity, and it may change while a call
// sleeps: Close wakes the call (it then sees io.EOF or ErrClosed); a new
// Go peer attaching wakes it (above); a peer cannot take over the role
// from a live holder, and one that takes it from a dead holder finds the
// call already returned with ErrPeerDead, or has it watch the new pid at
// its next look. One change wakes nobody: a C peer attaching (0 to a pid)
// while the call sleeps. A call whose pid word is 0 (no peer yet) therefore
// looks again every second, and a C peer that attaches and dies before it
// writes, reads or closes anything is noticed within that second (one that
// writes or closes wakes the call at once). A peer in this process (its
// pid word holds ours) cannot die under the call: no watch, no timeout.
// A pid reused by an unrelated process before the call first looks at it
// passes for the peer, as it does for claiming a role.
//
// Where a pidfd cannot be watched — pidfd_open missing (before Linux 5.3)
// or forbidden (seccomp), EMFILE, a netpoller that refuses the fd — or
// under SHMMAP_RING_PEERWATCH=off, a sleeping call wakes every
// DefaultPeerCheck (50 ms) to check the peer's pid itself, as it did
// before the watches. SetPeerCheck(d) with d > 0 bounds every sleep to d
// as well (the call then also looks at the pid word every d, for peers
// whose pid may change without a wake-up), and sets the fallback's
// interval; SetPeerCheck(-1) turns the checks off. Pids are only
// meaningful within one PID namespace: both processes must share it, or
// the checks must be off.
//
// # Large messages and peers in one process
//
// Write and Read copy with REP MOVSB from 2 KiB on CPUs with enhanced REP
// MOVSB, not Go's copy: from 1 MiB, runtime.memmove writes a destination
// that is not 16-byte aligned (a record's payload is 8 bytes into it, so
// never) with non-temporal stores, which bypass the caches, and the peer
// then reads the whole message back from memory. Copy is that routine for
// the in-place APIs: fill the memory TryClaim or ClaimContext returns, and
// copy out of a ReadFunc callback, with ring.Copy rather than copy.
//
// Both ends may live in one process (two goroutines, or a request ring
// and a response ring between a client and a server goroutine). A blocked
// call whose peer's pid word holds this process's pid spins with
// runtime.Gosched alone, neither the CPU's spin-wait hint nor
// sched_yield: the peer is a goroutine that may be waiting for the very P
// the spin holds. If that peer answered the previous wait within a
// millisecond (inProcessSpin), the call then keeps yielding to it for up to
// a millisecond more before it sleeps: a peer copying a 1.4 MB message
// takes about 100 µs, and a futex sleep and wake-up would add tens of
// microseconds to every round trip (BenchmarkPingPong at 1.4 MB: 226 µs
// per zero-copy round trip before, about 130 µs with it). A peer that was
// slow last time, as an idle ring's is, gets no such spin.
//
// # Cost of a call
//
// A call that does not wait costs, besides the copy, one sequentially
// consistent store of this side's position (the publish or the free, which
// the wake-up protocol needs), the load of the other side's futex word, and
// no other atomic read-modify-write: each side caches the other's position
// and loads it again only when the cached one says the ring is full
// (producer) or empty (consumer), as cring/ring.h does. The guard that
// lets Close come from another goroutine (see gate.go) costs a call two
// plain stores and two loads on x86 (Close pays instead, with a
// membarrier(2) system call), and two uncontended compare-and-swaps
// elsewhere, under the race detector, or where membarrier is not allowed.
// There, a second call made while one is in progress is reliably refused
// with ErrInvalid; on x86 it is refused when the first call is blocked, and
// two calls that start within nanoseconds of each other may go unnoticed:
// the methods are for one goroutine at a time.
//
// The copy itself is slower when the page after the message's source was
// never touched (it has no page-table entry yet): on the Xeon `make bench`
// first ran on, writing 4 KiB messages from a page-aligned buffer took 325
// ns each against 250 ns with the next page touched, in C as in Go. A fresh
// Go heap object is often followed by such a page; a buffer in a program's
// warm heap is not (see messageBuffer in bench/internal/streamer).
//
// # Differences from Agrona
//
// Agrona's OneToOneRingBuffer puts its counters in a trailer after the data
// and commits each record by writing its length last (the consumer zeroes
// what it has read). This ring puts the header first, so a segment of any
// size can be formatted without knowing its capacity in advance, and
// commits by the tail alone, so the consumer never writes into the data
// area and no zeroing is needed. Its futex words and pid words have no
// Agrona counterpart: Agrona spins or parks in one JVM, this ring sleeps
// across processes and notices a dead peer.
package ring
