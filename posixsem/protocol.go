package posixsem

// The futex protocol of glibc's semaphores, transcribed from
// nptl/sem_post.c (__new_sem_post) and nptl/sem_waitcommon.c
// (__new_sem_wait_fast, __new_sem_wait_slow64, __sem_wait_32_finish). Both
// layouts are here; the native one is used, the other only by the tests.
// Go's atomic operations are sequentially consistent, stronger than the
// acquire and release orderings glibc asks for.

import (
	"context"
	"math"
	"sync/atomic"
	"time"

	"github.com/shmmap/shmmap/internal/futexwait"
	"golang.org/x/sys/unix"
)

// post is __new_sem_post.
func (s *Semaphore) post() unix.Errno {
	f := &s.f
	if s.l.wide {
		d := atomic.LoadUint64(f.data)
		for {
			if d&valueMask >= ValueMax {
				return unix.EOVERFLOW
			}
			if atomic.CompareAndSwapUint64(f.data, d, d+1) {
				break
			}
			d = atomic.LoadUint64(f.data)
		}
		// If there is any potentially blocked waiter, wake one of them.
		if d>>nwaitersShift > 0 {
			return s.wake(1)
		}
		return 0
	}
	v := atomic.LoadUint32(f.word)
	for {
		if v>>valueShift >= ValueMax {
			return unix.EOVERFLOW
		}
		if atomic.CompareAndSwapUint32(f.word, v, v+1<<valueShift) {
			break
		}
		v = atomic.LoadUint32(f.word)
	}
	if v&nwaitersMask != 0 {
		return s.wake(1)
	}
	return 0
}

// tryFast is __new_sem_wait_fast: take a token without blocking. With
// definitive false it gives up after one failed compare-and-swap, as
// sem_wait and sem_timedwait do before taking the slow path; sem_trywait
// passes true and retries until it either takes a token or sees none.
func (s *Semaphore) tryFast(definitive bool) bool {
	f := &s.f
	if s.l.wide {
		d := atomic.LoadUint64(f.data)
		for {
			if d&valueMask == 0 {
				return false
			}
			if atomic.CompareAndSwapUint64(f.data, d, d-1) {
				return true
			}
			if !definitive {
				return false
			}
			d = atomic.LoadUint64(f.data)
		}
	}
	v := atomic.LoadUint32(f.word)
	for {
		if v>>valueShift == 0 {
			return false
		}
		if atomic.CompareAndSwapUint32(f.word, v, v-1<<valueShift) {
			return true
		}
		if !definitive {
			return false
		}
		v = atomic.LoadUint32(f.word)
	}
}

// waitSlow is __new_sem_wait_slow64 with clockid CLOCK_REALTIME: the
// futex timeout is ctx's deadline, if any. Cancellation before the
// deadline, which the futex cannot see, wakes the sleepers (see wakeUntil).
func (s *Semaphore) waitSlow(ctx context.Context) error {
	deadline, _ := ctx.Deadline()
	// fw is closed before the memory may go (run's caller unmaps it after
	// Close); a wait it returns from leaves nothing armed.
	var fw futexwait.Waiter
	defer fw.Close()
	cancellable := ctx.Done() != nil
	if cancellable {
		leaving := make(chan struct{})
		finished := make(chan struct{})
		stop := context.AfterFunc(ctx, func() {
			defer close(finished)
			s.wakeUntil(leaving)
		})
		defer func() {
			close(leaving)
			if !stop() {
				<-finished // the waker touches the memory: keep it mapped
			}
		}()
	}
	if s.l.wide {
		return s.waitSlowWide(ctx, &fw, deadline, cancellable)
	}
	return s.waitSlowNarrow(ctx, &fw, deadline, cancellable)
}

// wakeUntil wakes every sleeper on the futex until the cancelled waiter
// has left: it may not be asleep yet when ctx ends, so one wake-up is not
// enough. The other sleepers (Go or C) see the value unchanged and go back
// to sleep, as after any spurious wake-up.
func (s *Semaphore) wakeUntil(leaving <-chan struct{}) {
	delay := 50 * time.Microsecond
	t := time.NewTimer(delay)
	defer t.Stop()
	for {
		s.wake(math.MaxInt32)
		select {
		case <-leaving:
			return
		case <-t.C:
		}
		delay = min(2*delay, 10*time.Millisecond)
		t.Reset(delay)
	}
}

// waitSlowWide is the __HAVE_64B_ATOMICS slow path.
func (s *Semaphore) waitSlowWide(ctx context.Context, fw *futexwait.Waiter, deadline time.Time, cancellable bool) error {
	f := &s.f
	// Register as a waiter.
	d := atomic.AddUint64(f.data, oneWaiter) - oneWaiter
	for {
		if d&valueMask == 0 {
			// No token: sleep until there is one. A wake-up (real or
			// spurious) or EAGAIN (the value changed) means try again.
			if cancellable {
				if err := ctx.Err(); err != nil {
					atomic.AddUint64(f.data, ^uint64(oneWaiter-1))
					return err
				}
			}
			switch e := futexWait(fw, f.word, 0, deadline, s.private()); e {
			case 0, unix.EAGAIN, unix.EINTR:
			case unix.ETIMEDOUT:
				atomic.AddUint64(f.data, ^uint64(oneWaiter-1))
				return deadlineErr(ctx)
			default:
				atomic.AddUint64(f.data, ^uint64(oneWaiter-1))
				return e
			}
			d = atomic.LoadUint64(f.data)
			continue
		}
		// Take a token and stop being a waiter in one step.
		if atomic.CompareAndSwapUint64(f.data, d, d-1-oneWaiter) {
			return nil
		}
		d = atomic.LoadUint64(f.data)
	}
}

// waitSlowNarrow is the 32-bit slow path: value carries the "waiters
// present" bit, nwaiters the count. finishNarrow is called, not deferred:
// after a fault there is no memory left to finish on.
func (s *Semaphore) waitSlowNarrow(ctx context.Context, fw *futexwait.Waiter, deadline time.Time, cancellable bool) error {
	atomic.AddUint32(s.f.nwaiters, 1)
	err := s.waitNarrowLoop(ctx, fw, deadline, cancellable)
	s.finishNarrow()
	return err
}

func (s *Semaphore) waitNarrowLoop(ctx context.Context, fw *futexwait.Waiter, deadline time.Time, cancellable bool) error {
	f := &s.f
	v := atomic.LoadUint32(f.word)
	for {
		for {
			// About to block: make sure the waiters bit is set.
			for v&nwaitersMask == 0 {
				if atomic.CompareAndSwapUint32(f.word, v, v|nwaitersMask) {
					break
				}
				v = atomic.LoadUint32(f.word)
			}
			if v>>valueShift == 0 {
				if cancellable {
					if err := ctx.Err(); err != nil {
						return err
					}
				}
				switch e := futexWait(fw, f.word, nwaitersMask, deadline, s.private()); e {
				case 0, unix.EAGAIN, unix.EINTR:
				case unix.ETIMEDOUT:
					return deadlineErr(ctx)
				default:
					return e
				}
				v = atomic.LoadUint32(f.word)
			}
			if v>>valueShift != 0 {
				break
			}
		}
		// Try to take a token.
		if atomic.CompareAndSwapUint32(f.word, v, v-1<<valueShift) {
			return nil
		}
		v = atomic.LoadUint32(f.word)
	}
}

// finishNarrow is __sem_wait_32_finish: stop being a waiter, clearing the
// waiters bit if this looks like the last waiter, and repair the guess if
// another waiter arrived meanwhile by setting the bit again and waking as
// many waiters as there are tokens.
func (s *Semaphore) finishNarrow() {
	f := &s.f
	wguess := atomic.LoadUint32(f.nwaiters)
	if wguess == 1 {
		atomic.AndUint32(f.word, ^uint32(nwaitersMask))
	}
	wfinal := atomic.AddUint32(f.nwaiters, ^uint32(0)) + 1
	if wfinal > 1 && wguess == 1 {
		v := atomic.OrUint32(f.word, nwaitersMask) >> valueShift
		if v > 0 {
			s.wake(int(v))
		}
	}
}

// deadlineErr is the error for a futex timeout: ctx.Err(), or
// DeadlineExceeded if the real-time clock passed the deadline a moment
// before ctx's own timer fired.
func deadlineErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return context.DeadlineExceeded
}
