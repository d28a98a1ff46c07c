package futexwait

import (
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// futexWaitv is struct futex_waitv (24 bytes, the same on 386).
type futexWaitv struct {
	val      uint64
	uaddr    uint64
	flags    uint32
	reserved uint32
}

// waitvMax is how many words one futex_waitv call takes
// (FUTEX_WAITV_MAX); one is each worker's control word.
const (
	waitvMax       = 128
	waitvPerWorker = waitvMax - 1
)

func futexWaitvCall(v []futexWaitv) (int, unix.Errno) {
	r, _, e := unix.Syscall6(unix.SYS_FUTEX_WAITV, uintptr(unsafe.Pointer(&v[0])), uintptr(len(v)), 0, 0, 0, 0)
	return int(r), e
}

func (f Flags) futex2() uint32 {
	if f&Private != 0 {
		return futex2SizeU32 | futex2Private
	}
	return futex2SizeU32
}

// waitvPool multiplexes waits over worker goroutines, each asleep in
// futex_waitv on up to 127 words and its control word; a worker holds a
// thread while it sleeps, so n waits cost ceil(n/127) threads.
type waitvPool struct {
	mu       sync.Mutex
	left     sync.Cond // broadcast (with mu) when a worker leaves futex_waitv
	workers  []*waitvWorker
	inflight atomic.Int64
}

// waitvWorker is one futex_waitv caller. ctl is its control word: bumped
// and woken whenever its set of waits changes.
type waitvWorker struct {
	ctl  uint32
	ops  []*vop // guarded by pool.mu
	pool *waitvPool
}

// vop is one wait registered with a worker.
type vop struct {
	op
	flags Flags
	w     *waitvWorker // nil once completed
	// inCall: the word is in the vector of the worker's futex_waitv call
	// in progress, so the kernel may have a waiter queued on it until the
	// call returns (guarded by pool.mu).
	inCall bool
}

// newWaitvPool checks that futex_waitv works: a word whose value differs
// must give EAGAIN (Linux 5.16; ENOSYS before, EPERM under some filters).
func newWaitvPool() (*waitvPool, error) {
	word := uint32(1)
	v := []futexWaitv{{val: 0, uaddr: uint64(uintptr(unsafe.Pointer(&word))), flags: Private.futex2()}}
	if _, e := futexWaitvCall(v); e != unix.EAGAIN {
		return nil, fmt.Errorf("futex_waitv: %w", e)
	}
	p := &waitvPool{}
	p.left.L = &p.mu
	return p, nil
}

func (p *waitvPool) arm(addr *uint32, val uint32, flags Flags) (*op, error) {
	o := &vop{op: op{done: make(chan int32, 1), recheck: make(chan struct{}, 1)}, flags: flags}
	o.addr, o.word, o.val, o.v = uintptr(unsafe.Pointer(addr)), addr, val, o
	p.mu.Lock()
	var w *waitvWorker
	for _, x := range p.workers {
		if len(x.ops) < waitvPerWorker {
			w = x
			break
		}
	}
	if w == nil {
		w = &waitvWorker{pool: p}
		p.workers = append(p.workers, w)
		go w.run()
	}
	o.w = w
	w.ops = append(w.ops, o)
	w.poke()
	p.mu.Unlock()
	p.inflight.Add(1)
	return &o.op, nil
}

// poke tells the worker its set changed. p.mu is held.
func (w *waitvWorker) poke() {
	atomic.AddUint32(&w.ctl, 1)
	Wake(&w.ctl, 1, Private)
}

// complete removes o from its worker and delivers res. p.mu is held.
func (w *waitvWorker) complete(o *vop, res int32) {
	for i, x := range w.ops {
		if x == o {
			w.ops[i] = w.ops[len(w.ops)-1]
			w.ops[len(w.ops)-1] = nil
			w.ops = w.ops[:len(w.ops)-1]
			break
		}
	}
	o.w = nil
	o.done <- res
	w.pool.inflight.Add(-1)
}

// cancel ends o's wait, and returns only once no futex_waitv call of a
// worker includes its word: until the call returns, the kernel has a
// waiter queued on the word, which would take a FUTEX_WAKE meant for
// another sleeper (a C process on the same semaphore, say) after the
// caller has left — a lost wake-up — or outlive the caller's mapping.
func (p *waitvPool) cancel(o *op) {
	v := o.v
	p.mu.Lock()
	if w := v.w; w != nil {
		w.complete(v, -int32(unix.ECANCELED))
		w.poke()
	}
	for v.inCall {
		p.left.Wait() // the poke makes the worker's call return at once
	}
	p.mu.Unlock()
}

func (p *waitvPool) release(*op) {}

func (p *waitvPool) armed(addr uintptr) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, w := range p.workers {
		for _, o := range w.ops {
			if o.addr == addr {
				n++
			}
		}
	}
	return n
}

func (p *waitvPool) inFlight() int64 { return p.inflight.Load() }

// recheck signals every registered wait whose word no longer holds its
// value (the worker was not woken for it), and returns how many
// registered waits it looked at. It holds p.mu per worker (at most 127
// waits), under which a cancelled or completed wait has left its worker's
// set, so it never loads a word its caller may have unmapped.
func (p *waitvPool) recheck() int {
	p.mu.Lock()
	workers := append([]*waitvWorker(nil), p.workers...)
	p.mu.Unlock()
	n := 0
	for _, w := range workers {
		p.mu.Lock()
		for _, o := range w.ops {
			o.signalIfChanged()
			n++
		}
		p.mu.Unlock()
	}
	return n
}

// run is the worker: it sleeps in futex_waitv on its control word and its
// waits, and completes those that are woken or whose value differs. After
// any change of the set (the control word moved) it starts over with the
// new set. It never touches a word whose wait was cancelled: the caller may
// have unmapped it.
func (w *waitvWorker) run() {
	p := w.pool
	vec := make([]futexWaitv, 0, waitvMax)
	ops := make([]*vop, 0, waitvMax)
	for {
		p.mu.Lock()
		if len(w.ops) == 0 && w != p.workers[0] {
			// Idle, and not the first worker: give the thread back.
			for i, x := range p.workers {
				if x == w {
					p.workers = append(p.workers[:i], p.workers[i+1:]...)
					break
				}
			}
			p.mu.Unlock()
			return
		}
		ctl := atomic.LoadUint32(&w.ctl)
		vec = append(vec[:0], futexWaitv{val: uint64(ctl), uaddr: uint64(uintptr(unsafe.Pointer(&w.ctl))), flags: Private.futex2()})
		ops = append(ops[:0], nil)
		for _, o := range w.ops {
			vec = append(vec, futexWaitv{val: uint64(o.val), uaddr: uint64(uintptr(unsafe.Pointer(o.word))), flags: o.flags.futex2()})
			ops = append(ops, o)
			o.inCall = true
		}
		p.mu.Unlock()
		r, e := futexWaitvCall(vec)
		p.mu.Lock()
		for _, o := range ops[1:] {
			o.inCall = false
		}
		p.left.Broadcast()
		switch {
		case e == 0 && r > 0 && r < len(ops):
			if o := ops[r]; o.w == w {
				w.complete(o, 0)
			}
			// futex_waitv reports one woken word; another woken in the
			// same moment is found by its changed value (ring and
			// glibc's semaphores change the word before FUTEX_WAKE).
			fallthrough
		case e == unix.EAGAIN:
			// Some value differed: find which, among the waits still
			// registered (their memory is still mapped).
			for _, o := range ops[1:] {
				if o.w == w && atomic.LoadUint32(o.word) != o.val {
					w.complete(o, -int32(unix.EAGAIN))
				}
			}
		case e == 0 || e == unix.EINTR:
		default:
			// If the set changed meanwhile, start over (a cancel waits
			// for this call to return before its caller may unmap the
			// word, so an EFAULT is a live wait's). Otherwise the
			// failure is real: every wait of the call gets it (an
			// unaligned word, EINVAL, fails its worker's other waits
			// too; the callers' words are aligned).
			if atomic.LoadUint32(&w.ctl) == ctl {
				for _, o := range ops[1:] {
					if o.w == w {
						w.complete(o, -int32(e))
					}
				}
			}
		}
		p.mu.Unlock()
	}
}
