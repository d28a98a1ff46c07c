package futexwait

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// io_uring constants (<linux/io_uring.h>); x/sys/unix has only the system
// call numbers.
const (
	ioringOpAsyncCancel = 14
	ioringOpFutexWait   = 51 // Linux 6.7

	ioringSetupCQSize = 1 << 3
	ioringSetupClamp  = 1 << 4

	ioringFeatSingleMmap = 1 << 0
	ioringFeatNoDrop     = 1 << 1

	ioringEnterGetEvents = 1 << 0

	ioringSQCQOverflow = 1 << 1

	iosqeCQESkipSuccess = 1 << 6

	ioringRegisterEventfd = 4

	ioringOffSQRing = 0
	ioringOffCQRing = 0x8000000
	ioringOffSQEs   = 0x10000000
)

// ioUringParams is struct io_uring_params: fixed-size fields only, so the
// same on 386 and amd64 (120 bytes).
type ioUringParams struct {
	sqEntries    uint32
	cqEntries    uint32
	flags        uint32
	sqThreadCPU  uint32
	sqThreadIdle uint32
	features     uint32
	wqFD         uint32
	resv         [3]uint32
	sqOff        sqRingOffsets
	cqOff        cqRingOffsets
}

type sqRingOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

type cqRingOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

// sqe is struct io_uring_sqe (64 bytes) as the futex and cancel requests
// use it. The 64-bit fields sit at 8-byte offsets, so Go's 386 layout
// (4-byte alignment of uint64) is the same.
type sqe struct {
	opcode      uint8
	flags       uint8
	ioprio      uint16
	fd          int32  // futex2 flags for FUTEX_WAIT
	off         uint64 // addr2: the expected value
	addr        uint64 // the futex word; the user_data to cancel
	len         uint32
	opFlags     uint32
	userData    uint64
	bufIndex    uint16
	personality uint16
	fileIndex   int32
	addr3       uint64 // the futex mask
	pad         uint64
}

// cqe is struct io_uring_cqe (16 bytes).
type cqe struct {
	userData uint64
	res      int32
	flags    uint32
}

// Sizes chosen for the ring. The submission queue holds the entries of a
// burst until they are submitted (see submit); waits in flight take no room
// in either queue. The completion queue holds
// completions not yet reaped: a burst of wake-ups larger than it goes to
// the kernel's overflow list (IORING_FEAT_NODROP) and is flushed.
const (
	sqEntries = 1024
	cqEntries = 16384
)

// cancelTag marks the user_data of cancel requests, whose completions
// (only failed ones are posted) are ignored.
const cancelTag = 1 << 63

// op is one futex wait in flight. done receives its result (0, -EAGAIN,
// -ECANCELED, another -errno) exactly once. recheck (buffered, one slot)
// is signalled by the recheck walk (see recheckLoop) when the word no
// longer holds val while no result has come.
type op struct {
	done    chan int32
	recheck chan struct{}
	ud      uint64  // io_uring: user_data
	addr    uintptr // the word, for Armed
	// word is the futex word, set while the wait is armed and its result
	// has not come (io_uring: nil once completed; futex_waitv: the op is
	// in its worker's set): the recheck walk loads only such words, under
	// the lock that guards them, so never a word its caller may have
	// unmapped.
	word *uint32
	val  uint32
	v    *vop // futex_waitv: the registration
}

func newOp() *op {
	return &op{done: make(chan int32, 1), recheck: make(chan struct{}, 1)}
}

// signalIfChanged signals o.recheck if its word no longer holds the
// value it was armed with. The caller holds the lock that guards o.word.
func (o *op) signalIfChanged() {
	if atomic.LoadUint32(o.word) != o.val {
		select {
		case o.recheck <- struct{}{}:
		default: // already signalled
		}
	}
}

// uring is the process's io_uring for futex waits, and its reaper.
type uring struct {
	fd       int
	features uint32

	mu         sync.Mutex // guards the submission queue and ops
	submitting bool       // a goroutine is submitting pushed entries (see submit)
	sqEntries  uint32
	sqTail     *uint32
	sqHead     *uint32
	sqFlags    *uint32
	sqMask     uint32
	sqes       []byte
	ops        []*op
	gens       []uint32
	free       []uint32

	cqHead *uint32
	cqTail *uint32
	cqMask uint32
	cqes   []byte // starts at the first cqe

	efd *os.File // the registered eventfd, read through the netpoller

	inflight atomic.Int64 // waits armed and not yet reaped (for tests)
}

func u32at(b []byte, off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&b[off])) }

func ioUringSetup(entries uint32, p *ioUringParams) (int, error) {
	fd, _, e := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(p)), 0)
	if e != 0 {
		return -1, e
	}
	return int(fd), nil
}

func (u *uring) enter(toSubmit, minComplete, flags uint32) (int, syscall.Errno) {
	r, _, e := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(u.fd), uintptr(toSubmit), uintptr(minComplete),
		uintptr(flags), 0, 0)
	return int(r), e
}

// newURing sets up the ring, registers an eventfd for its completions and
// starts the reaper, then checks that a futex wait works end to end: the
// kernel may lack IORING_OP_FUTEX_WAIT (before 6.7), or io_uring may be
// disabled (kernel.io_uring_disabled, a seccomp filter).
func newURing() (*uring, error) {
	p := ioUringParams{flags: ioringSetupCQSize | ioringSetupClamp, cqEntries: cqEntries}
	fd, err := ioUringSetup(sqEntries, &p)
	if err != nil {
		return nil, fmt.Errorf("io_uring_setup: %w", err)
	}
	u := &uring{fd: fd, features: p.features}
	ok := false
	defer func() {
		if !ok {
			u.close()
		}
	}()
	if p.features&ioringFeatNoDrop == 0 {
		return nil, fmt.Errorf("io_uring without IORING_FEAT_NODROP: %w", unix.ENOSYS)
	}
	sqSize := int(p.sqOff.array + p.sqEntries*4)
	cqSize := int(p.cqOff.cqes + p.cqEntries*uint32(unsafe.Sizeof(cqe{})))
	if p.features&ioringFeatSingleMmap != 0 {
		sqSize = max(sqSize, cqSize)
		cqSize = sqSize
	}
	sq, err := unix.Mmap(fd, ioringOffSQRing, sqSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil, fmt.Errorf("mmap io_uring SQ: %w", err)
	}
	cq := sq
	if p.features&ioringFeatSingleMmap == 0 {
		if cq, err = unix.Mmap(fd, ioringOffCQRing, cqSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
			return nil, fmt.Errorf("mmap io_uring CQ: %w", err)
		}
	}
	sqes, err := unix.Mmap(fd, ioringOffSQEs, int(p.sqEntries)*int(unsafe.Sizeof(sqe{})), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil, fmt.Errorf("mmap io_uring SQEs: %w", err)
	}
	u.sqHead, u.sqTail, u.sqFlags = u32at(sq, p.sqOff.head), u32at(sq, p.sqOff.tail), u32at(sq, p.sqOff.flags)
	u.sqMask = *u32at(sq, p.sqOff.ringMask)
	u.sqEntries = p.sqEntries
	u.sqes = sqes
	// The index array maps queue slots to SQEs one to one, once for all.
	for i := range p.sqEntries {
		*u32at(sq, p.sqOff.array+4*i) = i
	}
	u.cqHead, u.cqTail = u32at(cq, p.cqOff.head), u32at(cq, p.cqOff.tail)
	u.cqMask = *u32at(cq, p.cqOff.ringMask)
	u.cqes = cq[p.cqOff.cqes:]

	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	u.efd = os.NewFile(uintptr(efd), "futexwait-eventfd")
	e32 := int32(efd)
	if _, _, e := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(fd), ioringRegisterEventfd,
		uintptr(unsafe.Pointer(&e32)), 1, 0, 0); e != 0 {
		return nil, fmt.Errorf("IORING_REGISTER_EVENTFD: %w", e)
	}
	go u.reap()
	ok = true
	if err := u.selfTest(); err != nil {
		// The ring stays (its reaper parked, a wait may be armed on
		// selfTestWord): closing it under a live reaper is not worth
		// the risk for a process that then never uses it.
		ok = true
		return nil, err
	}
	return u, nil
}

// selfTestWord is the word the start-up check waits on; it stays
// reachable for good in case a wait is left armed.
var selfTestWord uint32

// selfTest arms a wait whose value differs (it must complete with
// -EAGAIN), then one that matches and is woken by FUTEX_WAKE (0).
func (u *uring) selfTest() error {
	atomic.StoreUint32(&selfTestWord, 0)
	check := func(val uint32, wake bool, want int32) error {
		o, err := u.arm(&selfTestWord, val, Private)
		if err != nil {
			return err
		}
		if wake {
			Wake(&selfTestWord, 1, Private)
		}
		t := time.NewTimer(5 * time.Second)
		defer t.Stop()
		select {
		case res := <-o.done:
			u.release(o)
			if res != want {
				return fmt.Errorf("io_uring futex wait: result %d, want %d: %w", res, want, unix.ENOSYS)
			}
			return nil
		case <-t.C:
			return fmt.Errorf("io_uring futex wait: no completion: %w", unix.ETIMEDOUT)
		}
	}
	if err := check(1, false, -int32(unix.EAGAIN)); err != nil {
		return err
	}
	// A matching wait must sleep until the wake: Wake runs after arm
	// returned, so the wait is queued by then (at start-up nobody else submits:
	// arm submits its entry itself, before it returns).
	return check(0, true, 0)
}

func (u *uring) close() {
	if u.efd != nil {
		u.efd.Close()
	}
	unix.Close(u.fd)
}

// getSQE returns the next free submission queue entry, zeroed; the caller
// fills it and calls push. u.mu is held. When the queue is full (a burst of
// waits faster than the submitter), it submits what is there first.
func (u *uring) getSQE() *sqe {
	for *u.sqTail-atomic.LoadUint32(u.sqHead) >= u.sqEntries {
		u.enterLocked()
	}
	tail := *u.sqTail
	s := (*sqe)(unsafe.Pointer(&u.sqes[uintptr(tail&u.sqMask)*unsafe.Sizeof(sqe{})]))
	*s = sqe{}
	return s
}

// push publishes the entry filled since getSQE. u.mu is held.
func (u *uring) push() {
	atomic.StoreUint32(u.sqTail, *u.sqTail+1)
}

// pending is the number of entries pushed and not yet consumed by the
// kernel (it advances the queue's head as it takes them).
func (u *uring) pending() uint32 {
	return atomic.LoadUint32(u.sqTail) - atomic.LoadUint32(u.sqHead)
}

// enterLocked submits the pending entries with u.mu held (the queue is
// full). Only transient errors are possible once the ring works (EINTR;
// EBUSY or EAGAIN while the completion backlog or memory is short): it
// makes way and retries.
func (u *uring) enterLocked() {
	if _, e := u.enter(u.pending(), 0, 0); e != 0 {
		u.mu.Unlock()
		u.backoff(e)
		u.mu.Lock()
	}
}

// backoff lets a failed io_uring_enter (EBUSY, EAGAIN, EINTR) clear: the
// completion backlog is flushed and the caller retries a little later.
func (u *uring) backoff(e unix.Errno) {
	if e == unix.EINTR {
		return
	}
	u.flush()
	time.Sleep(10 * time.Microsecond)
}

// submit makes sure the pushed entries reach the kernel. Submissions are
// combined: the first caller to find nobody submitting submits everything
// pending, in one io_uring_enter for a whole burst of waits, until nothing
// is left; the others return at once, their entries submitted by it. So a
// storm of waits costs few system calls, and few goroutines held in one (a
// goroutine in a system call holds a thread). An entry pushed is submitted
// soon, not necessarily before submit returns: a FUTEX_WAKE that comes in
// between is not lost, since the waker changed the word before waking and
// the kernel compares it with the expected value when it queues the wait
// (-EAGAIN).
func (u *uring) submit() {
	u.mu.Lock()
	if u.submitting {
		u.mu.Unlock()
		return
	}
	u.submitting = true
	for n := u.pending(); n > 0; n = u.pending() {
		u.mu.Unlock()
		if _, e := u.enter(n, 0, 0); e != 0 {
			u.backoff(e)
		}
		u.mu.Lock()
	}
	u.submitting = false
	u.mu.Unlock()
}

// arm queues IORING_OP_FUTEX_WAIT on addr while it holds val (see submit
// for when it reaches the kernel).
func (u *uring) arm(addr *uint32, val uint32, flags Flags) (*op, error) {
	u.mu.Lock()
	var idx uint32
	if n := len(u.free); n > 0 {
		idx = u.free[n-1]
		u.free = u.free[:n-1]
	} else {
		idx = uint32(len(u.ops))
		u.ops = append(u.ops, newOp())
		u.gens = append(u.gens, 0)
	}
	o := u.ops[idx]
	o.ud = uint64(u.gens[idx])<<32 | uint64(idx)
	o.addr = uintptr(unsafe.Pointer(addr))
	o.word, o.val = addr, val
	s := u.getSQE()
	s.opcode = ioringOpFutexWait
	s.fd = futex2SizeU32
	if flags&Private != 0 {
		s.fd |= futex2Private
	}
	s.addr = uint64(uintptr(unsafe.Pointer(addr)))
	s.off = uint64(val)
	s.addr3 = futexBitsetMatchAny
	s.userData = o.ud
	u.push()
	u.inflight.Add(1)
	u.mu.Unlock()
	u.submit()
	return o, nil
}

// cancel asks the kernel to end o's wait. Its result still arrives on
// o.done: -ECANCELED, or whatever completed the wait first.
func (u *uring) cancel(o *op) {
	u.mu.Lock()
	s := u.getSQE()
	s.opcode = ioringOpAsyncCancel
	s.flags = iosqeCQESkipSuccess
	s.addr = o.ud
	s.userData = cancelTag | o.ud
	u.push()
	u.mu.Unlock()
	u.submit()
}

// release returns o, whose result has been received, to the free list.
func (u *uring) release(o *op) {
	u.mu.Lock()
	idx := uint32(o.ud)
	u.gens[idx]++
	o.addr, o.word = 0, nil
	select {
	case <-o.recheck: // a signal the waiter did not take
	default:
	}
	u.free = append(u.free, idx)
	u.mu.Unlock()
}

// reap runs for the life of the process: it delivers completions, then
// parks on the eventfd, which the kernel signals on every completion. The
// read parks the goroutine in the netpoller, not a thread.
func (u *uring) reap() {
	var buf [8]byte
	for {
		u.flush()
		if _, err := u.efd.Read(buf[:]); err != nil && !errors.Is(err, syscall.EINTR) {
			panic("futexwait: reading the io_uring eventfd: " + err.Error())
		}
	}
}

// reapMu serialises flush: the reaper and a submitter retrying after
// EBUSY may both flush.
var reapMu sync.Mutex

// flush delivers every completion in the queue and in the kernel's
// overflow list.
func (u *uring) flush() {
	reapMu.Lock()
	defer reapMu.Unlock()
	for {
		head := atomic.LoadUint32(u.cqHead)
		tail := atomic.LoadUint32(u.cqTail)
		if head == tail {
			if atomic.LoadUint32(u.sqFlags)&ioringSQCQOverflow == 0 {
				return
			}
			u.enter(0, 0, ioringEnterGetEvents)
			continue
		}
		for ; head != tail; head++ {
			c := (*cqe)(unsafe.Pointer(&u.cqes[uintptr(head&u.cqMask)*unsafe.Sizeof(cqe{})]))
			ud, res := c.userData, c.res
			if ud&cancelTag != 0 {
				continue // a cancel that found nothing: the wait completed
			}
			u.mu.Lock()
			o := u.ops[uint32(ud)]
			if o.ud == ud {
				o.word = nil // completed: the walk leaves it
				o.done <- res
				u.inflight.Add(-1)
			}
			u.mu.Unlock()
		}
		atomic.StoreUint32(u.cqHead, head)
	}
}

// armed counts the waits armed on addr.
func (u *uring) armed(addr uintptr) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for _, o := range u.ops {
		if o.addr == addr {
			n++
		}
	}
	return n
}

func (u *uring) inFlight() int64 { return u.inflight.Load() }

// recheckChunk is how many ops the recheck walk looks at per hold of the
// ops' lock, so that arms and completions are not held up behind a walk
// of 10,000 waits.
const recheckChunk = 256

// recheck signals every armed wait whose word no longer holds its value
// while no completion came, and returns how many armed waits it looked at.
func (u *uring) recheck() int {
	n := 0
	for i := 0; ; {
		u.mu.Lock()
		if i >= len(u.ops) {
			u.mu.Unlock()
			return n
		}
		end := min(i+recheckChunk, len(u.ops))
		for ; i < end; i++ {
			if o := u.ops[i]; o.word != nil {
				o.signalIfChanged()
				n++
			}
		}
		u.mu.Unlock()
	}
}
