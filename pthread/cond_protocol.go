package pthread

// glibc 2.36's condition variable algorithm (the one since 2.25),
// transcribed from nptl/pthread_cond_common.c, pthread_cond_signal.c,
// pthread_cond_broadcast.c and pthread_cond_wait.c. Go's atomic operations
// are sequentially consistent, stronger than the relaxed, acquire and
// release orderings glibc asks for. Fields that glibc reads and writes
// plainly under the condvar-internal lock (__g_size, __g1_orig_size) are
// accessed atomically here too, which costs nothing on x86 and keeps the
// race detector informed.

import (
	"context"
	"math"
	"sync/atomic"
	"time"

	"github.com/shmmap/shmmap/internal/futexwait"
	"golang.org/x/sys/unix"
)

// acquireLock is __condvar_acquire_lock: the three-state lock (0 free,
// 1 held, 2 held with waiters) in the two low bits of __g1_orig_size.
func (c *Cond) acquireLock() {
	p := c.f.origSize
	s := atomic.LoadUint32(p)
	for s&3 == 0 {
		if atomic.CompareAndSwapUint32(p, s, s|1) {
			return
		}
		s = atomic.LoadUint32(p)
	}
	for {
		for s&3 != 2 {
			if atomic.CompareAndSwapUint32(p, s, s&^3|2) {
				if s&3 == 0 {
					return
				}
				break
			}
			s = atomic.LoadUint32(p)
		}
		var fw futexwait.Waiter
		condFutexWaitSimple(&fw, p, s&^3|2, c.shared)
		s = atomic.LoadUint32(p)
	}
}

// releaseLock is __condvar_release_lock.
func (c *Cond) releaseLock() {
	if atomic.AndUint32(c.f.origSize, ^uint32(3))&3 == 2 {
		condFutexWakeN(c.f.origSize, 1, c.shared)
	}
}

// origSize is __condvar_get_orig_size (lock held).
func (c *Cond) origSize() uint32 { return atomic.LoadUint32(c.f.origSize) >> 2 }

// setOrigSize is __condvar_set_orig_size (lock held): a waiter may turn
// the lock state from 1 to 2 concurrently, which must not be lost.
func (c *Cond) setOrigSize(size uint32) {
	s := atomic.LoadUint32(c.f.origSize)&3 | size<<2
	if atomic.SwapUint32(c.f.origSize, s)&3 != s&3 {
		atomic.StoreUint32(c.f.origSize, size<<2|2)
	}
}

// quiesceAndSwitchG1 is __condvar_quiesce_and_switch_g1 (lock held):
// close G1, wait until no waiter holds a reference to its futex, turn it
// into a fresh G2 and make the old G2 the new G1. It returns false when
// it did not switch because G2 is empty, or the new G1 is (all
// cancelled). *g1 is updated to the new G1's index.
func (c *Cond) quiesceAndSwitchG1(wseq uint64, g1 *uint32) bool {
	f := &c.f
	i := *g1
	oldOrigSize := c.origSize()
	oldG1Start := f.g1Start.load() >> 1
	if uint32(wseq-oldG1Start-uint64(oldOrigSize))+atomic.LoadUint32(f.gSize[i^1]) == 0 {
		return false
	}
	// Close G1: waiters about to block see the flag instead.
	atomic.OrUint32(f.gSignals[i], 1)
	// Wait until there are no group references left.
	r := atomic.OrUint32(f.gRefs[i], 0)
	for r>>1 > 0 {
		// Set the wake-request flag and block.
		r = atomic.OrUint32(f.gRefs[i], 1) | 1
		if r>>1 > 0 {
			var fw futexwait.Waiter
			condFutexWaitSimple(&fw, f.gRefs[i], r, c.shared)
		}
		r = atomic.LoadUint32(f.gRefs[i])
	}
	// Finish closing: advance __g1_start past the old G1 (and flip its
	// low bit, the index of G2).
	delta := oldOrigSize << 1
	if i == 1 {
		delta++
	} else {
		delta-- // unsigned: as glibc's (old_orig_size << 1) + -1
	}
	f.g1Start.add(delta)
	// Reopen the slot as the new G2.
	atomic.StoreUint32(f.gSignals[i], 0)
	// Publish the switch.
	wseq = f.wseq.fetchXor(1) >> 1
	i ^= 1
	*g1 = i
	origSize := uint32(wseq - (oldG1Start + uint64(oldOrigSize)))
	c.setOrigSize(origSize)
	// Add, so that cancellations while it was G2 are kept.
	size := atomic.AddUint32(f.gSize[i], origSize)
	return size != 0
}

// signal is __pthread_cond_signal.
func (c *Cond) signal() {
	f := &c.f
	if atomic.LoadUint32(f.wrefs)>>3 == 0 {
		return
	}
	c.acquireLock()
	wseq := f.wseq.load()
	g1 := uint32(wseq&1) ^ 1
	wseq >>= 1
	wake := false
	if atomic.LoadUint32(f.gSize[g1]) != 0 || c.quiesceAndSwitchG1(wseq, &g1) {
		atomic.AddUint32(f.gSignals[g1], 2)
		atomic.AddUint32(f.gSize[g1], ^uint32(0))
		wake = true
	}
	c.releaseLock()
	if wake {
		condFutexWakeN(f.gSignals[g1], 1, c.shared)
	}
}

// broadcast is __pthread_cond_broadcast.
func (c *Cond) broadcast() {
	f := &c.f
	if atomic.LoadUint32(f.wrefs)>>3 == 0 {
		return
	}
	c.acquireLock()
	wseq := f.wseq.load()
	g2 := uint32(wseq & 1)
	g1 := g2 ^ 1
	wseq >>= 1
	wake := false
	// Signal every waiter left in G1.
	if n := atomic.LoadUint32(f.gSize[g1]); n != 0 {
		atomic.AddUint32(f.gSignals[g1], n<<1)
		atomic.StoreUint32(f.gSize[g1], 0)
		condFutexWakeN(f.gSignals[g1], math.MaxInt32, c.shared)
	}
	// Then make G2 the new G1 and signal all of it.
	if c.quiesceAndSwitchG1(wseq, &g1) {
		atomic.AddUint32(f.gSignals[g1], atomic.LoadUint32(f.gSize[g1])<<1)
		atomic.StoreUint32(f.gSize[g1], 0)
		wake = true
	}
	c.releaseLock()
	if wake {
		condFutexWakeN(f.gSignals[g1], math.MaxInt32, c.shared)
	}
}

// confirmWakeup is __condvar_confirm_wakeup: drop the waiter reference,
// waking pthread_cond_destroy if it waits for the last one.
func (c *Cond) confirmWakeup() {
	if (atomic.AddUint32(c.f.wrefs, ^uint32(condWrefsOne-1))+condWrefsOne)>>2 == 3 {
		condFutexWakeN(c.f.wrefs, math.MaxInt32, c.shared)
	}
}

// cancelWaiting is __condvar_cancel_waiting: after a timeout (or a failed
// unlock), shrink the waiter's group if it can still be shrunk, and
// otherwise pass on the signal it effectively consumed.
func (c *Cond) cancelWaiting(seq uint64, g uint32) {
	f := &c.f
	consumed := false
	c.acquireLock()
	g1Start := f.g1Start.load() >> 1
	switch {
	case g1Start > seq:
		// The group is closed: someone provided a signal for us.
		consumed = true
	case g1Start+uint64(c.origSize()) <= seq:
		// In G2: make it smaller, or on overflow wake everyone.
		if atomic.LoadUint32(f.gSize[g])+condMaxGroupSize > 0 {
			atomic.AddUint32(f.gSize[g], ^uint32(0))
		} else {
			c.releaseLock()
			c.broadcast()
			return
		}
	default:
		// In G1: a size of zero means a signal only we can consume.
		if atomic.LoadUint32(f.gSize[g]) == 0 {
			consumed = true
		} else {
			atomic.AddUint32(f.gSize[g], ^uint32(0))
		}
	}
	c.releaseLock()
	if consumed {
		c.signal()
	}
}

// decGrefs is __condvar_dec_grefs: drop a group reference, waking a
// signaler waiting in quiesceAndSwitchG1 for the last one.
func (c *Cond) decGrefs(g uint32) {
	p := c.f.gRefs[g]
	if atomic.AddUint32(p, ^uint32(1))+2 == 3 {
		atomic.AndUint32(p, ^uint32(1))
		condFutexWakeN(p, math.MaxInt32, c.shared)
	}
}

// condLocker is what a wait needs of its mutex: release it after
// registering as a waiter (__pthread_mutex_unlock_usercnt) and take it
// again after waking (__pthread_mutex_cond_lock).
type condLocker interface {
	Unlock() error
	Lock() error
}

// wait is __pthread_cond_wait_common. ctx's deadline, if any, is the
// timeout, on Go's monotonic clock (see condFutexWaitUntil); a
// cancellation the futex cannot see is noticed when the sleepers are
// woken (see wakeUntil), and handled as a timeout. It returns the mutex's error from relocking if there is
// one, else ctx's error if the wait gave up, else nil.
func (c *Cond) wait(ctx context.Context, m condLocker) error {
	f := &c.f
	// Take a position in the waiter sequence; we go into what is G2 now.
	wseq := f.wseq.fetchAdd(2)
	g := uint32(wseq & 1)
	seq := wseq >> 1
	flags := atomic.AddUint32(f.wrefs, condWrefsOne) - condWrefsOne
	shared := flags&condSharedMask != 0
	_ = shared // c.shared is what CondAt checked; glibc re-reads it here

	if err := m.Unlock(); err != nil {
		c.cancelWaiting(seq, g)
		c.confirmWakeup()
		return err
	}

	deadline, _ := ctx.Deadline()
	cancellable := ctx.Done() != nil
	if cancellable {
		leaving := make(chan struct{})
		finished := make(chan struct{})
		stop := context.AfterFunc(ctx, func() {
			defer close(finished)
			c.wakeUntil(f.gSignals[g], leaving)
		})
		defer func() {
			close(leaving)
			if !stop() {
				<-finished
			}
		}()
	}

	var fw futexwait.Waiter
	result := c.waitForSignal(ctx, &fw, deadline, cancellable, seq, g)
	fw.Close()
	c.confirmWakeup()
	if err := m.Lock(); err != nil {
		return err
	}
	return result
}

// waitForSignal is the part of __pthread_cond_wait_common between
// releasing the mutex and the label done: wait until a signal is
// available in group g or the group is closed.
func (c *Cond) waitForSignal(ctx context.Context, fw *futexwait.Waiter, deadline time.Time, cancellable bool, seq uint64, g uint32) error {
	f := &c.f
	signals := atomic.LoadUint32(f.gSignals[g])
	for {
		// Wait for a signal (the inner loop of glibc's do-while).
		for {
			if signals&1 != 0 {
				return nil // our group is being closed
			}
			if signals != 0 {
				break
			}
			atomic.AddUint32(f.gRefs[g], 2)
			if atomic.LoadUint32(f.gSignals[g])&1 != 0 || seq < f.g1Start.load()>>1 {
				// Our group is closed.
				c.decGrefs(g)
				return nil
			}
			var e unix.Errno
			if cancellable && ctx.Err() != nil {
				e = unix.ETIMEDOUT
			} else {
				e = condFutexWaitUntil(fw, f.gSignals[g], 0, deadline, c.shared, cancellable)
			}
			if e == unix.ETIMEDOUT || e == unix.EOVERFLOW {
				c.decGrefs(g)
				// Timed out: we effectively cancel waiting (the group
				// reference is gone, so no deadlock with a group switch).
				c.cancelWaiting(seq, g)
				if err := ctx.Err(); err != nil {
					return err
				}
				return context.DeadlineExceeded
			}
			c.decGrefs(g)
			signals = atomic.LoadUint32(f.gSignals[g])
		}
		// Try to grab a signal.
		if atomic.CompareAndSwapUint32(f.gSignals[g], signals, signals-2) {
			break
		}
		signals = atomic.LoadUint32(f.gSignals[g])
	}
	// We may have stolen a signal from a more recent group aliasing ours
	// (the same slot); if our group is closed, conservatively give one back.
	g1Start := f.g1Start.load()
	if seq < g1Start>>1 && uint32(g1Start&1)^1 == g {
		s := atomic.LoadUint32(f.gSignals[g])
		for f.g1Start.load() == g1Start {
			if s&1 != 0 || atomic.CompareAndSwapUint32(f.gSignals[g], s, s+2) {
				condFutexWakeN(f.gSignals[g], 1, c.shared)
				break
			}
			s = atomic.LoadUint32(f.gSignals[g])
		}
	}
	return nil
}

// wakeUntil wakes every sleeper on the group's futex until the cancelled
// waiter has left: it may not be asleep yet when ctx ends, so one wake-up
// is not enough. The other sleepers (Go or C) see no new signal and go
// back to sleep, as after any spurious futex wake-up, which the algorithm
// allows.
func (c *Cond) wakeUntil(word *uint32, leaving <-chan struct{}) {
	delay := 50 * time.Microsecond
	t := time.NewTimer(delay)
	defer t.Stop()
	for {
		condFutexWakeN(word, math.MaxInt32, c.shared)
		select {
		case <-leaving:
			return
		case <-t.C:
		}
		delay = min(2*delay, 10*time.Millisecond)
		t.Reset(delay)
	}
}
