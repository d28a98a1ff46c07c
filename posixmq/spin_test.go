package posixmq_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shmmap/shmmap/posixmq"
	"golang.org/x/sys/unix"
)

// forever is a spin budget no test outlasts: a call with it never waits in
// the poller, so what it returns was found by a spinning attempt.
const forever = 1 << 30

// watchSpin installs the spin hook for the test: the returned channel is
// closed at the first yield of a spin, and n counts the yields.
func watchSpin(t *testing.T) (spinning <-chan struct{}, n *atomic.Int64) {
	ch := make(chan struct{})
	n = new(atomic.Int64)
	posixmq.SetSpinHook(func() {
		if n.Add(1) == 1 {
			close(ch)
		}
	})
	t.Cleanup(func() { posixmq.SetSpinHook(nil) })
	return ch, n
}

type spinResult struct {
	n    int
	prio uint
	err  error
}

// spinning starts f and waits until it spins, failing if it returns first.
func spinning(t *testing.T, f func() spinResult) <-chan spinResult {
	t.Helper()
	started, _ := watchSpin(t)
	got := make(chan spinResult, 1)
	go func() { got <- f() }()
	select {
	case <-started:
	case r := <-got:
		t.Fatalf("the call returned without spinning: %d bytes, prio %d, %v", r.n, r.prio, r.err)
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not spin within 10s")
	}
	return got
}

// TestSpinDelivers: a Receive that is spinning when a message comes gets
// it with its priority, and a Send spinning on a full queue sends when a
// receive makes room; the poller is never used.
func TestSpinDelivers(t *testing.T) {
	q := create(t, qname(t), 0, 1, 16)
	q.SetSpin(forever)
	buf := make([]byte, 16)
	got := spinning(t, func() spinResult {
		n, prio, err := q.Receive(buf)
		return spinResult{n, prio, err}
	})
	if err := q.Send([]byte("spun"), 7); err != nil {
		t.Fatal(err)
	}
	if r := <-got; r.err != nil || r.prio != 7 || string(buf[:r.n]) != "spun" {
		t.Errorf("spinning Receive: %q prio %d %v, want \"spun\" prio 7", buf[:max(r.n, 0)], r.prio, r.err)
	}

	if err := q.Send([]byte("first"), 1); err != nil {
		t.Fatal(err)
	}
	sent := spinning(t, func() spinResult { return spinResult{err: q.Send([]byte("second"), 2)} })
	if n, prio, err := q.Receive(buf); err != nil || prio != 1 || string(buf[:n]) != "first" {
		t.Fatalf("Receive: %q prio %d %v", buf[:max(n, 0)], prio, err)
	}
	if r := <-sent; r.err != nil {
		t.Fatalf("spinning Send: %v", r.err)
	}
	if n, prio, err := q.TryReceive(buf); err != nil || prio != 2 || string(buf[:n]) != "second" {
		t.Errorf("after the spinning Send: %q prio %d %v, want \"second\" prio 2", buf[:max(n, 0)], prio, err)
	}
	if n := parked(); n != 0 {
		t.Errorf("%d goroutines waited in the poller", n)
	}
}

// TestSpinContext: a ReceiveContext and a SendContext that are spinning
// return ctx.Err() when ctx is cancelled or its deadline passes, and take
// (send) nothing.
func TestSpinContext(t *testing.T) {
	q := create(t, qname(t), 0, 1, 8)
	q.SetSpin(forever)
	buf := make([]byte, 8)
	ctx, cancel := context.WithCancel(context.Background())
	got := spinning(t, func() spinResult {
		n, prio, err := q.ReceiveContext(ctx, buf)
		return spinResult{n, prio, err}
	})
	cancel()
	if r := <-got; r.err != context.Canceled {
		t.Errorf("cancelled while spinning: %v, want context.Canceled", r.err)
	}

	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, _, err := q.ReceiveContext(ctx, buf); err != context.DeadlineExceeded || time.Since(start) < 20*time.Millisecond {
		t.Errorf("deadline while spinning: %v after %v, want context.DeadlineExceeded after 20ms", err, time.Since(start))
	}

	if err := q.Send([]byte("full"), 0); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	sent := spinning(t, func() spinResult { return spinResult{err: q.SendContext(ctx, []byte("more"), 0)} })
	cancel()
	if r := <-sent; r.err != context.Canceled {
		t.Errorf("cancelled send while spinning: %v, want context.Canceled", r.err)
	}
	if a, err := q.Attr(); err != nil || a.CurMsgs != 1 {
		t.Errorf("after the cancelled send: %+v %v, want the one message", a, err)
	}
}

// TestSpinClose: a Receive that is spinning returns ErrClosed when the
// queue is closed.
func TestSpinClose(t *testing.T) {
	q := create(t, qname(t), 0, 1, 8)
	q.SetSpin(forever)
	got := spinning(t, func() spinResult {
		n, prio, err := q.Receive(make([]byte, 8))
		return spinResult{n, prio, err}
	})
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if r := <-got; !errors.Is(r.err, posixmq.ErrClosed) {
		t.Errorf("spinning Receive when the queue is closed: %v, want ErrClosed", r.err)
	}
}

// TestSpinThenWaits: a Receive with a budget of 3 yields 3 times, then
// waits in the poller, and a later Send wakes it; with O_NONBLOCK it
// neither spins nor waits.
func TestSpinThenWaits(t *testing.T) {
	q := create(t, qname(t), 0, 1, 8)
	q.SetSpin(3)
	_, yields := watchSpin(t)
	got := make(chan spinResult, 1)
	buf := make([]byte, 8)
	go func() {
		n, prio, err := q.Receive(buf)
		got <- spinResult{n, prio, err}
	}()
	waitParked(t, 1)
	if n := yields.Load(); n != 3 {
		t.Errorf("%d yields before waiting, want 3", n)
	}
	if err := q.Send([]byte("late"), 0); err != nil {
		t.Fatal(err)
	}
	if r := <-got; r.err != nil || string(buf[:r.n]) != "late" {
		t.Errorf("the woken Receive: %q %v", buf[:max(r.n, 0)], r.err)
	}

	nb := create(t, qname(t), unix.O_NONBLOCK, 1, 8)
	yields.Store(0)
	if _, _, err := nb.Receive(buf); !errors.Is(err, posixmq.ErrWouldBlock) || yields.Load() != 0 {
		t.Errorf("O_NONBLOCK Receive: %v after %d yields, want ErrWouldBlock after none", err, yields.Load())
	}
}

// TestSetSpin: SetSpin(0) waits at once, without a yield, and SetSpin(-1)
// restores the default budget, Spin.
func TestSetSpin(t *testing.T) {
	q := create(t, qname(t), 0, 1, 8)
	_, yields := watchSpin(t)
	for _, c := range []struct{ set, want int }{{0, 0}, {-1, posixmq.Spin}} {
		q.SetSpin(c.set)
		yields.Store(0)
		ctx, cancel := context.WithCancel(context.Background())
		got := make(chan error, 1)
		go func() {
			_, _, err := q.ReceiveContext(ctx, make([]byte, 8))
			got <- err
		}()
		waitParked(t, 1)
		cancel()
		if err := <-got; err != context.Canceled || yields.Load() != int64(c.want) {
			t.Errorf("SetSpin(%d): %v after %d yields, want context.Canceled after %d", c.set, err, yields.Load(), c.want)
		}
	}
}
