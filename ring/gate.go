package ring

import "sync/atomic"

// A gate orders a Producer's or Consumer's operations against its Close,
// which may come from another goroutine. Without it a call that had
// already checked for Close could publish a record or free space after the
// role was released, behind the back of a consumer that saw the end of the
// stream, or of a new producer or consumer that took the role. So Close
// releases the role at once only when no call is in progress; otherwise it
// wakes that call, which returns ErrClosed (or completes, if it was past
// the point of no return) and releases the role as it leaves. It costs
// each call two uncontended compare-and-swaps, as os.File's fdMutex does.
type gate struct{ state atomic.Uint32 }

const (
	gateBusy   = 1 << iota // a call is in progress
	gateClosed             // Close has been called
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
	return errorf(ErrInvalid, "concurrent calls on one %s (or a call from inside a ReadFunc callback)", role)
}

// exit ends a call. It reports whether Close came meanwhile, in which case
// the caller must now release the role.
func (g *gate) exit() (release bool) {
	if g.state.CompareAndSwap(gateBusy, 0) {
		return false
	}
	g.state.Store(gateClosed)
	return true
}

// close marks the gate closed. first is false if it already was; idle
// reports that no call is in progress, so the caller releases the role
// now (otherwise the call does, in exit).
func (g *gate) close() (first, idle bool) {
	for {
		s := g.state.Load()
		if s&gateClosed != 0 {
			return false, false
		}
		if g.state.CompareAndSwap(s, s|gateClosed) {
			return true, s&gateBusy == 0
		}
	}
}

func (g *gate) closed() bool { return g.state.Load()&gateClosed != 0 }

// shut is Close for either role: it releases the role at once if no call is
// in progress, or wakes the call, which releases it as it leaves.
func (g *gate) shut(r *Ring, release func()) error {
	first, idle := g.close()
	if !first {
		return ErrClosed
	}
	if idle {
		release()
	} else {
		wakeAll(r) // the call in progress sees the close and releases
	}
	return nil
}
