package ring

import (
	"context"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

// wakeSpinWaiter returns a waiter whose peer is another live process (our
// parent, the go command), with peer checks off and a counted spin of one
// load turn, so that what a blocked call does after that turn is
// spinMore's choice alone. It sets wakeSpin to d until the test ends.
func wakeSpinWaiter(t *testing.T, d time.Duration) *waiter {
	t.Helper()
	old, oldWake := wakeSpin, lastFutexWake.Load()
	wakeSpin = d
	t.Cleanup(func() { wakeSpin = old; lastFutexWake.Store(oldWake) })
	var word, peer atomic.Uint32
	peer.Store(uint32(os.Getppid()))
	w := &waiter{word: &word, peer: &peer, peerRole: "consumer"}
	w.peerCheck.Store(-1)
	w.setSpin(1, 0)
	return w
}

// answerAt returns a try that fails with ErrEmpty until the monotonic
// clock reaches at: a peer that answers then.
func answerAt(at int64) func() error {
	return func() error {
		if monoClock() < at {
			return ErrEmpty
		}
		return nil
	}
}

// TestWakeSpinCoversPeerWakeUp: a blocked call whose peer is another
// process, made within wakeSpin of this process's last FUTEX_WAKE, spins
// through the peer's wake-up instead of sleeping, when its last wait was
// quick; after a recent wake but with the last wait slow, and with no
// recent wake, the same call sleeps. (wakeSpin is a second here, and the
// peer answers 2 ms after the wake, so that the test does not depend on
// how fast this machine schedules us.)
func TestWakeSpinCoversPeerWakeUp(t *testing.T) {
	w := wakeSpinWaiter(t, time.Second)
	ctx := context.Background()

	woke := monoClock()
	lastFutexWake.Store(woke)
	w.quick.Store(true)
	// Nobody wakes the word: a call that sleeps returns at the deadline.
	sctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	if err := w.block(sctx, answerAt(woke+int64(2*time.Millisecond))); err != nil {
		t.Fatal(err)
	}
	if st := w.st.get(); st.Sleeps != 0 {
		t.Fatalf("the call slept %d times though the peer answered 2 ms after our wake-up, within wakeSpin", st.Sleeps)
	}
	if !w.quick.Load() {
		t.Fatal("a wait that the spin after a wake-up ended left quick cleared")
	}

	for _, c := range []struct {
		name  string
		woke  int64 // when this process last woke a sleeper
		quick bool
	}{
		{"no recent wake-up", monoClock() - int64(2*time.Second), true},
		{"last wait slow", monoClock(), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			lastFutexWake.Store(c.woke)
			w.quick.Store(c.quick)
			before := w.st.get().Sleeps
			tctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
			defer cancel()
			// Nobody wakes the word: the sleep ends at the deadline, and
			// the call returns the deadline's error or, if its re-check
			// comes first, the answer.
			err := w.block(tctx, answerAt(monoClock()+int64(2*time.Millisecond)))
			if err != nil && err != context.DeadlineExceeded {
				t.Fatal(err)
			}
			if st := w.st.get(); st.Sleeps == before {
				t.Fatal("the call did not sleep: it spun without a recent wake-up or after a slow wait")
			}
		})
	}
}

// TestWakeSpinSlowPeer: a peer that does not answer within wakeSpin of the
// wake-up costs one spin of wakeSpin, then a sleep, and clears quick, so
// the next wait after a wake-up sleeps at once; a wait that ends within
// the counted spin sets quick again.
func TestWakeSpinSlowPeer(t *testing.T) {
	w := wakeSpinWaiter(t, 2*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	lastFutexWake.Store(monoClock())
	w.quick.Store(true)
	start := time.Now()
	err := w.block(ctx, answerAt(monoClock()+int64(time.Hour)))
	if err != context.DeadlineExceeded {
		t.Fatalf("got %v, want the deadline's error", err)
	}
	if time.Since(start) < 2*time.Millisecond {
		t.Fatalf("the call returned after %v, before its spin after the wake-up had run", time.Since(start))
	}
	if st := w.st.get(); st.Sleeps == 0 {
		t.Fatal("the call never slept")
	}
	if w.quick.Load() {
		t.Fatal("a spin after a wake-up that the peer did not answer left quick set")
	}
	if err := w.block(context.Background(), func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	if !w.quick.Load() {
		t.Fatal("a wait that ended in the counted spin did not set quick")
	}
}
