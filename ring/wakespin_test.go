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
	old, oldWake := wakeSpin.Load(), lastFutexWake.Load()
	wakeSpin.Store(int64(d))
	t.Cleanup(func() { wakeSpin.Store(old); lastFutexWake.Store(oldWake) })
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

// never is a peer that does not answer.
func never() error { return ErrEmpty }

// wakeSleeper makes this process wake a sleeper the way a write or a read
// does (wakeIf on a word a peer set to 1: a FUTEX_WAKE, nobody waiting on
// it) and returns the time the wake-up recorded, failing the test if it
// recorded none.
func wakeSleeper(t *testing.T) int64 {
	t.Helper()
	before := monoClock()
	var word atomic.Uint32
	word.Store(1)
	var st stats
	wakeIf(&word, &st)
	woke := lastFutexWake.Load()
	if woke < before || woke > monoClock() {
		t.Fatalf("wakeIf's FUTEX_WAKE recorded %d as this process's last wake-up, not a time since %d", woke, before)
	}
	return woke
}

// TestWakeSpinCoversPeerWakeUp: a blocked call whose peer is another
// process, made just after this process woke a sleeper (through wakeIf),
// spins through the peer's wake-up instead of sleeping when its last wait
// was quick; with the last wait slow, with no recent wake-up, and with the
// spin off, the same call sleeps at once. (wakeSpin is a second here and
// the peer answers 2 ms after the wake-up, so that the first case does not
// depend on how fast this machine schedules us; in the others the peer
// never answers, and the call must have slept when its deadline ends it.)
func TestWakeSpinCoversPeerWakeUp(t *testing.T) {
	w := wakeSpinWaiter(t, time.Second)
	ctx := context.Background()

	woke := wakeSleeper(t)
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
		t.Fatal("a wait that the spin after a wake-up ended cleared quick")
	}

	for _, c := range []struct {
		name  string
		setup func()
	}{
		{"no recent wake-up", func() {
			lastFutexWake.Store(monoClock() - int64(2*time.Second))
			w.quick.Store(true)
		}},
		{"last wait slow", func() {
			wakeSleeper(t)
			w.quick.Store(false)
		}},
		{"spin off", func() {
			wakeSleeper(t)
			w.quick.Store(true)
			wakeSpin.Store(0)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer wakeSpin.Store(wakeSpin.Load())
			c.setup()
			before := w.st.get().Sleeps
			tctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
			defer cancel()
			start := time.Now()
			if err := w.block(tctx, never); err != context.DeadlineExceeded {
				t.Fatalf("got %v, want the deadline's error", err)
			}
			if st := w.st.get(); st.Sleeps == before {
				t.Fatal("the call never slept")
			}
			if want := c.name != "last wait slow"; w.quick.Load() != want {
				t.Fatalf("quick changed to %v: the call ran a spin through a wake-up", !want)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Fatalf("the call took %v", d)
			}
		})
	}
}

// TestWakeSpinSlowPeer: a peer that does not answer within wakeSpin of the
// wake-up costs one spin, then a sleep, and clears quick, so the next wait
// after a wake-up sleeps at once; a wait that ends within the counted spin
// sets quick again. The spin ends at ctx's deadline if that comes first.
func TestWakeSpinSlowPeer(t *testing.T) {
	w := wakeSpinWaiter(t, 5*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	wakeSleeper(t)
	w.quick.Store(true)
	if err := w.block(ctx, never); err != context.DeadlineExceeded {
		t.Fatalf("got %v, want the deadline's error", err)
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

	// A deadline before the end of the spin: the spin stops there, and the
	// call returns the deadline's error without a sleep.
	wakeSpin.Store(int64(time.Hour))
	wakeSleeper(t)
	sctx, cancel2 := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel2()
	before := w.st.get().Sleeps
	start := time.Now()
	if err := w.block(sctx, never); err != context.DeadlineExceeded {
		t.Fatalf("got %v, want the deadline's error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("a call with a 5 ms deadline spun for %v", d)
	}
	if st := w.st.get(); st.Sleeps != before {
		t.Fatal("a call whose deadline ended its spin slept")
	}
	if w.quick.Load() {
		t.Fatal("a spin cut short by the deadline left quick set")
	}
}
