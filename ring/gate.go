package ring

import (
	"sync"
	"sync/atomic"
)

// A gate orders a Producer's or Consumer's calls against its Close, which
// may come from another goroutine. Without it a call that had already
// checked for Close could publish a record or free space after the role
// was released, behind the back of a consumer that saw the end of the
// stream, or of a new producer or consumer that took the role.
//
// So Close releases the role itself only when no call is in progress.
// Otherwise it wakes that call, which returns ErrClosed (or completes, if
// it was past the point of no return) and releases the role as it leaves,
// and Close waits for that before it returns, so that the memory may be
// unmapped right after Close. The one exception is a Close while a
// ReadFunc or ReadBatch callback runs — perhaps called by the callback
// itself, which waiting would deadlock: the role is then released when the
// call returns.
//
// The gate has two protocols, chosen when it is made:
//
// The asymmetric one (x86, outside the race detector, where the kernel
// has membarrier(2)) costs a call no atomic read-modify-write and no
// fence: the calling goroutine stores busy plainly and then loads the
// closed bit; on its way out it stores busy = 0 and loads the closed bit
// again. Close stores the closed bit and then runs
// membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), which makes every thread of
// the process that is running execute a full memory barrier, before it
// loads busy. This is Dekker's mutual exclusion with the fence moved to
// the rare side (as userspace RCU and Folly's asymmetric barriers do):
// either the call's load sees the closed bit, or Close's load sees busy
// (or both; the slow paths, under mu, then agree on who releases). x86
// keeps stores in order and a load behind earlier loads (TSO), so the
// only reordering the barrier has to undo is a load passing a store.
//
// The compare-and-swap protocol (other architectures, the race detector,
// kernels or sandboxes without membarrier) costs a call two uncontended
// compare-and-swaps, as os.File's fdMutex does.
//
// A second call while one is in progress (the methods are for one
// goroutine at a time) is refused with ErrInvalid. The compare-and-swap
// protocol always sees it; the asymmetric one sees it when the first call
// is blocked (it stored busy long before), and may miss two calls that
// start within nanoseconds of each other.
type gate struct {
	asym bool // the asymmetric protocol; fixed when the gate is made
	// busy (asymmetric protocol): 0, gateBusy during a call, and
	// gateBusy|gateCallback during a callback; written only by the
	// goroutine making the call, with plain stores.
	busy uint32
	// state: gateBusy|gateCallback|gateClosed (compare-and-swap
	// protocol); only gateClosed (asymmetric protocol).
	state   atomic.Uint32
	release func() // gives up the role

	mu       sync.Mutex
	released bool          // the role has been given up (under mu)
	waiting  chan struct{} // closed when a call in progress has released the role
}

const (
	gateBusy     = 1 << iota // a call is in progress
	gateCallback             // inside a ReadFunc or ReadBatch callback
	gateClosed               // Close has been called
)

// init readies the gate of a role that release gives up.
func (g *gate) init(release func()) {
	g.asym = asymmetricGate()
	g.release = release
}

// enter starts a call: ErrClosed after Close, an ErrInvalid error if
// another call is in progress.
func (g *gate) enter(role string) error {
	if g.asym {
		if g.busy == 0 {
			g.busy = gateBusy
			if g.state.Load() == 0 {
				return nil
			}
			g.leaveClosed() // Close came first: let it finish
			return ErrClosed
		}
	} else if g.state.CompareAndSwap(0, gateBusy) {
		return nil
	}
	return g.refuse(role)
}

// refuse is enter's slow path, out of line so that enter inlines.
func (g *gate) refuse(role string) error {
	if g.closed() {
		return ErrClosed
	}
	return errorf(ErrInvalid, "concurrent calls on one %s", role)
}

// exit ends a call. If Close came meanwhile, the role is released now.
func (g *gate) exit() {
	if g.asym {
		g.busy = 0
		if g.state.Load() != 0 {
			g.leaveClosed()
		}
		return
	}
	if !g.state.CompareAndSwap(gateBusy, 0) {
		g.leaveClosed()
	}
}

// exitAfterCallback is exit for a call that runs a callback, which may
// have panicked before its end was marked.
func (g *gate) exitAfterCallback() {
	if !g.asym {
		g.state.And(^uint32(gateCallback))
	}
	g.exit()
}

// leaveClosed ends a call that met Close: it releases the role unless
// Close did, and wakes a Close waiting for that.
func (g *gate) leaveClosed() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.asym {
		g.busy = 0
	} else {
		g.state.Store(gateClosed)
	}
	if !g.released {
		g.released = true
		g.release()
	}
	if g.waiting != nil {
		close(g.waiting)
		g.waiting = nil
	}
}

// callback marks the start and end of a ReadFunc or ReadBatch callback.
func (g *gate) callback(in bool) {
	switch {
	case g.asym && in:
		g.busy = gateBusy | gateCallback
	case g.asym:
		g.busy = gateBusy
	case in:
		g.state.Or(gateCallback)
	default:
		g.state.And(^uint32(gateCallback))
	}
}

// shut is Close for either role. With no call in progress it releases the
// role at once; otherwise it wakes the call and waits until the call has
// released it on its way out (not if a callback is running).
func (g *gate) shut(r *Ring) error {
	g.mu.Lock()
	var s uint32
	if g.asym {
		if g.closed() {
			g.mu.Unlock()
			return ErrClosed
		}
		g.state.Store(gateClosed)
		membarrier()
		s = atomic.LoadUint32(&g.busy)
	} else {
		s = g.state.Load()
		for s&gateClosed == 0 && !g.state.CompareAndSwap(s, s|gateClosed) {
			s = g.state.Load()
		}
		if s&gateClosed != 0 {
			g.mu.Unlock()
			return ErrClosed
		}
	}
	if s&gateBusy == 0 {
		// A call starting now sees the closed bit and takes mu (in
		// leaveClosed) after this release.
		g.released = true
		g.release()
		g.mu.Unlock()
		return nil
	}
	// A call is in progress: on its way out it sees the closed bit,
	// releases, and then closes wait (in leaveClosed, under mu).
	wait := make(chan struct{})
	g.waiting = wait
	g.mu.Unlock()
	wakeAll(r)
	if s&gateCallback == 0 {
		<-wait
	}
	return nil
}

func (g *gate) closed() bool { return g.state.Load()&gateClosed != 0 }
