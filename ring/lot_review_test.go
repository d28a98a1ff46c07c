package ring

import (
	"context"
	"errors"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// lotPair formats a ring in heap memory and takes both roles, both sides
// sleeping at once and never waking for a peer check.
func lotPair(t *testing.T) (*Ring, *Producer, *Consumer) {
	t.Helper()
	r, err := Init(make([]byte, Size(256)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.Producer()
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.Consumer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(); c.Close() })
	for _, w := range []*waiter{&p.w, &c.w} {
		w.setSpin(0, 0)
		w.peerCheck.Store(int64(time.Hour))
	}
	return r, p, c
}

// waitLot waits until n calls are parked in the lot.
func waitLot(t *testing.T, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for lot.n.Load() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls parked in the lot, want %d", lot.n.Load(), n)
		}
		time.Sleep(100 * time.Microsecond) // polling a condition with a deadline
	}
}

// TestLotCountCoversAdd: lot.n must count a call from before it can be
// found in the lot. Otherwise a waker that takes the call out (and
// decrements) before lotAdd has counted it leaves lot.n one short for a
// moment — 0 with another call parked — and a wake-up of that other call
// in that moment finds "nobody parked", makes a FUTEX_WAKE nobody hears,
// and leaves the call to the sweeper: 10-20 ms late, and that side
// wrongly judged to have a waker that does not know the lot (its lot flag
// cleared for good). The hook runs the two wake-ups exactly in that
// moment.
func TestLotCountCoversAdd(t *testing.T) {
	if !lotOn {
		t.Skip("SHMMAP_RING_LOT=off")
	}
	_, pa, ca := lotPair(t)
	_, pb, cb := lotPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	base := lot.n.Load()
	read := func(c *Consumer, res chan<- string) {
		buf := make([]byte, 64)
		_, n, err := c.ReadContext(ctx, buf)
		if err != nil {
			res <- err.Error()
			return
		}
		res <- string(buf[:n])
	}
	resA, resB := make(chan string, 1), make(chan string, 1)
	go read(ca, resA)
	waitLot(t, base+1)

	var once sync.Once
	fired := false
	hook := func(word *atomic.Uint32) {
		if word != cb.w.word {
			return
		}
		once.Do(func() {
			fired = true
			if err := pb.TryWrite(1, []byte("b")); err != nil { // wakes cb
				t.Error(err)
			}
			if err := pa.TryWrite(1, []byte("a")); err != nil { // must wake ca through the lot
				t.Error(err)
			}
		})
	}
	lotAddHook.Store(&hook)
	defer lotAddHook.Store(nil)
	go read(cb, resB)
	if a, b := <-resA, <-resB; a != "a" || b != "b" {
		t.Fatalf("read %q and %q, want \"a\" and \"b\"", a, b)
	}
	lotAddHook.Store(nil)
	if !fired {
		t.Fatal("the hook did not run: the second reader never parked")
	}
	if !ca.w.lot.Load() {
		t.Error("the first reader's wake-up missed the lot (lot.n was short): the sweeper woke it and took it out of the lot for good")
	}
	if n := lot.n.Load(); n != base {
		t.Errorf("lot.n = %d after both calls returned, want %d", n, base)
	}
}

// deadPid returns the pid of a process that has exited and been reaped.
func deadPid(t *testing.T) uint32 {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return uint32(cmd.Process.Pid)
}

// TestLotPeerLeaves: a call parked in the lot whose peer's pid word stops
// naming this process — the role taken over by a process in another PID
// namespace that shows our pid number, or by any process once ours closed
// it before the parked call looked again — must not stay parked: no peer
// check runs in the lot, so a peer process that then dies without a word
// would leave it asleep for ever. It must go back to the futex sleep and
// its peer checks, and return ErrPeerDead.
func TestLotPeerLeaves(t *testing.T) {
	if !lotOn {
		t.Skip("SHMMAP_RING_LOT=off")
	}
	dead := deadPid(t)
	for _, role := range []string{"consumer", "producer"} {
		t.Run(role, func(t *testing.T) {
			r, p, c := lotPair(t)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			base := lot.n.Load()
			errc := make(chan error, 1)
			var pid *atomic.Uint32
			if role == "consumer" {
				c.w.peerCheck.Store(int64(5 * time.Millisecond))
				pid = r.producerPID
				go func() { _, _, err := c.ReadContext(ctx, make([]byte, 64)); errc <- err }()
			} else {
				p.w.peerCheck.Store(int64(5 * time.Millisecond))
				for p.TryWrite(1, nil) == nil {
				}
				pid = r.consumerPID
				go func() { errc <- p.WriteContext(ctx, 1, nil) }()
			}
			waitLot(t, base+1)
			pid.Store(dead) // the peer is now a process that is gone
			err := <-errc
			pid.Store(selfPID)
			if !errors.Is(err, ErrPeerDead) {
				t.Fatalf("the parked %s returned %v, want ErrPeerDead", role, err)
			}
			if n := lot.n.Load(); n != base {
				t.Errorf("lot.n = %d, want %d", n, base)
			}
		})
	}
}

// TestLotSlowWaker: a waker of this process held up in the middle of its
// wake-up (preempted, descheduled) for two sweeps and more must not make
// the sweeper take the call it wakes for one woken behind the lot's back:
// the sweeper would wake it early — harmless — and clear its lot flag for
// good, so that every later sleep of that side is a futex sleep. The hook
// holds the waker up until the sweeper has swept three times.
func TestLotSlowWaker(t *testing.T) {
	if !lotOn {
		t.Skip("SHMMAP_RING_LOT=off")
	}
	_, p, c := lotPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	base := lot.n.Load()
	res := make(chan error, 1)
	go func() { _, _, err := c.ReadContext(ctx, make([]byte, 64)); res <- err }()
	waitLot(t, base+1)
	var once sync.Once
	hook := func(word *atomic.Uint32) {
		if word != c.w.word {
			return
		}
		once.Do(func() {
			start := lot.sweeps.Load()
			deadline := time.Now().Add(10 * time.Second)
			// Until three sweeps are done, or the sweeper has taken the
			// call (then there is no third: nothing is parked).
			for lot.sweeps.Load() < start+3 && lot.n.Load() != base {
				if time.Now().After(deadline) {
					t.Error("the sweeper did not sweep")
					return
				}
				time.Sleep(100 * time.Microsecond) // polling a condition with a deadline
			}
		})
	}
	lotWakeHook.Store(&hook)
	defer lotWakeHook.Store(nil)
	if err := p.TryWrite(1, []byte("late")); err != nil {
		t.Fatal(err)
	}
	if err := <-res; err != nil {
		t.Fatal(err)
	}
	if !c.w.lot.Load() {
		t.Error("the sweeper took a slow waker of this process for one that does not know the lot")
	}
}
