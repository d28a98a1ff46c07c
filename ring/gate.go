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
// ReadFunc callback runs — perhaps called by the callback itself, which
// waiting would deadlock: the role is then released when ReadFunc returns.
//
// A call costs two uncontended compare-and-swaps, as os.File's fdMutex
// does; mu and released serve only the slow path of Close.
type gate struct {
	state    atomic.Uint32
	mu       sync.Mutex
	released chan struct{} // closed when a call in progress has released the role
}

const (
	gateBusy     = 1 << iota // a call is in progress
	gateCallback             // inside a ReadFunc callback
	gateClosed               // Close has been called
)

// enter starts a call: ErrClosed after Close, an ErrInvalid error if
// another call is in progress (the methods are for one goroutine at a
// time).
func (g *gate) enter(role string) error {
	if g.state.CompareAndSwap(0, gateBusy) {
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

// exit ends a call. It reports whether Close came meanwhile, in which case
// the caller must now release the role and then call done.
func (g *gate) exit() (release bool) {
	if g.state.CompareAndSwap(gateBusy, 0) {
		return false
	}
	g.state.Store(gateClosed)
	return true
}

// done tells a Close waiting in shut that the role has been released.
func (g *gate) done() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.released != nil {
		close(g.released)
		g.released = nil
	}
}

// callback marks the start and end of a ReadFunc callback.
func (g *gate) callback(in bool) {
	if in {
		g.state.Or(gateCallback)
	} else {
		g.state.And(^uint32(gateCallback))
	}
}

// shut is Close for either role. With no call in progress it releases the
// role at once; otherwise it wakes the call and waits until the call has
// released it on its way out (not if a ReadFunc callback is running).
func (g *gate) shut(r *Ring, release func()) error {
	g.mu.Lock()
	s := g.state.Load()
	for s&gateClosed == 0 && !g.state.CompareAndSwap(s, s|gateClosed) {
		s = g.state.Load()
	}
	if s&gateClosed != 0 {
		g.mu.Unlock()
		return ErrClosed
	}
	if s&gateBusy == 0 {
		g.mu.Unlock()
		release()
		return nil
	}
	// A call is in progress: exit will see the closed bit, release, and
	// then take mu (in done) — after this assignment.
	wait := make(chan struct{})
	g.released = wait
	g.mu.Unlock()
	wakeAll(r)
	if s&gateCallback == 0 {
		<-wait
	}
	return nil
}

func (g *gate) closed() bool { return g.state.Load()&gateClosed != 0 }
