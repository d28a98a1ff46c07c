package shmmap

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shmmap/shmmap/shmtest"
	"golang.org/x/sys/unix"
)

// forever is a spin budget no test outlasts: a call with it never blocks in
// the kernel, so what it returns was found by a spinning attempt.
const forever = 1 << 30

// watchSpin installs spinHook for the test: the returned channel is closed
// at the first yield of a spin, and n counts the yields. It also turns off
// the pause after a long yield (see TestQueueSpinLongYield), which a
// loaded machine could otherwise trigger under the test.
func watchSpin(t *testing.T) (spinning <-chan struct{}, n *atomic.Int64) {
	ch := make(chan struct{})
	n = new(atomic.Int64)
	spinHook = func() {
		if n.Add(1) == 1 {
			close(ch)
		}
	}
	longYield = time.Hour
	t.Cleanup(func() { spinHook, longYield = nil, spinLongYield })
	return ch, n
}

// awaitSpin waits until spinning is closed, for at most 10s.
func awaitSpin(t *testing.T, spinning <-chan struct{}) {
	t.Helper()
	select {
	case <-spinning:
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not spin within 10s")
	}
}

type spinResult struct {
	typ int64
	n   int
	err error
}

// spinReceive starts ReceiveWith on q in ns and waits until it spins.
func spinReceive(t *testing.T, ns *shmtest.Namespace, q *Queue, ctx context.Context, buf []byte, typ int64, opts ReceiveOpts) <-chan spinResult {
	t.Helper()
	spinning, _ := watchSpin(t)
	got := make(chan spinResult, 1)
	ns.Go(t, func() {
		typ, n, err := q.ReceiveWith(ctx, buf, typ, opts)
		got <- spinResult{typ, n, err}
	})
	select {
	case <-spinning:
	case r := <-got:
		t.Fatalf("the receive returned without spinning: type %d, %d bytes, %v", r.typ, r.n, r.err)
	case <-time.After(10 * time.Second):
		t.Fatal("the receive did not spin within 10s")
	}
	return got
}

// TestQueueSpinSelects: a receive that is spinning when the messages come
// takes the one msgrcv would (msgtyp, MSG_EXCEPT, a negative type,
// MSG_NOERROR), leaves the others, and fails with E2BIG as msgrcv does.
// Each case sends messages the receive does not select, then one it does
// (with several that match, which one a receive takes depends on when it
// looks, for a spinning one as for a C caller arriving a moment later),
// and is checked against the kernel's own answer: the same receive blocked
// in msgrcv (seen asleep there) on a second queue, sent the same messages.
func TestQueueSpinSelects(t *testing.T) {
	cases := []struct {
		name string
		sent []int64
		typ  int64
		opts ReceiveOpts
		text string
	}{
		{"type", []int64{3, 7, 5}, 5, ReceiveOpts{}, "message"},
		{"except", []int64{3, 3, 4}, 3, ReceiveOpts{Except: true}, "message"},
		{"lowest", []int64{9, 8, 4}, -5, ReceiveOpts{}, "message"},
		{"truncate", []int64{2}, 0, ReceiveOpts{Truncate: true}, "a message longer than the buffer"},
		{"e2big", []int64{2}, 0, ReceiveOpts{}, "a message longer than the buffer"},
	}
	forEachImpl(t, func(t *testing.T, s *System, ns *shmtest.Namespace) {
		// No subtests: the calls must run on this goroutine, in ns.
		for _, c := range cases {
			func() {
				q := newQueue(t, s, IPCPrivate, 0o600)
				q.SetSpin(forever)
				buf := make([]byte, 16)
				got := spinReceive(t, ns, q, context.Background(), buf, c.typ, c.opts)
				for i, typ := range c.sent {
					if err := q.Send(typ, []byte(c.text)); err != nil {
						t.Fatalf("%s: send %d: %v", c.name, i, err)
					}
				}
				r := <-got
				spinText := string(buf[:max(r.n, 0)])
				// The kernel's answer: the same receive blocked in msgrcv
				// on a second queue, then the same messages.
				ref := newQueue(t, s, IPCPrivate, 0o600)
				ref.SetSpin(0)
				refBuf := make([]byte, 16)
				blocked := make(chan spinResult, 1)
				ns.Go(t, func() {
					typ, n, err := ref.ReceiveWith(context.Background(), refBuf, c.typ, c.opts)
					blocked <- spinResult{typ, n, err}
				})
				waitReceivers(t, ref, blocked)
				for _, typ := range c.sent {
					if err := ref.Send(typ, []byte(c.text)); err != nil {
						t.Fatal(err)
					}
				}
				rr := <-blocked
				typ, n, err := rr.typ, rr.n, rr.err
				if r.typ != typ || r.n != n || spinText != string(refBuf[:max(n, 0)]) || errnoOf(r.err) != errnoOf(err) {
					t.Errorf("%s: spinning receive: type %d %q %v; blocked in msgrcv: type %d %q %v", c.name, r.typ, spinText, r.err, typ, refBuf[:max(n, 0)], err)
				}
				qi, err1 := q.Stat()
				ri, err2 := ref.Stat()
				if err1 != nil || err2 != nil || qi.Qnum != ri.Qnum {
					t.Errorf("%s: left in the queue: %+v %v; by msgrcv blocked: %+v %v", c.name, qi, err1, ri, err2)
				}
			}()
		}
	})
}

// errnoOf is the errno err wraps, 0 for nil, -1 for none.
func errnoOf(err error) int {
	var e unix.Errno
	switch {
	case err == nil:
		return 0
	case errors.As(err, &e):
		return int(e)
	}
	return -1
}

// TestQueueSpinContext: a ReceiveContext and a SendContext that are
// spinning return ctx.Err() when ctx is cancelled or its deadline passes,
// and take (send) nothing.
func TestQueueSpinContext(t *testing.T) {
	forEachImpl(t, func(t *testing.T, s *System, ns *shmtest.Namespace) {
		q := newQueue(t, s, IPCPrivate, 0o600)
		q.SetSpin(forever)
		buf := make([]byte, 8)

		ctx, cancel := context.WithCancel(context.Background())
		got := spinReceive(t, ns, q, ctx, buf, 0, ReceiveOpts{})
		cancel()
		if r := <-got; r.err != context.Canceled {
			t.Errorf("cancelled while spinning: %+v, want context.Canceled", r)
		}

		start := time.Now() // before the deadline is set: a preemption in between must not shorten the wait measured
		ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, _, err := q.ReceiveContext(ctx, buf, 0)
		if err != context.DeadlineExceeded || time.Since(start) < 20*time.Millisecond {
			t.Errorf("deadline while spinning: %v after %v, want context.DeadlineExceeded after 20ms", err, time.Since(start))
		}

		// A full queue: SendContext spins, is cancelled, sends nothing.
		if err := q.SetMaxBytes(4); err != nil {
			t.Fatal(err)
		}
		if err := q.TrySend(1, []byte("full")); err != nil {
			t.Fatal(err)
		}
		spinning, _ := watchSpin(t)
		ctx, cancel = context.WithCancel(context.Background())
		sent := make(chan error, 1)
		ns.Go(t, func() { sent <- q.SendContext(ctx, 2, []byte("more")) })
		awaitSpin(t, spinning)
		cancel()
		if err := <-sent; err != context.Canceled {
			t.Errorf("cancelled send while spinning: %v, want context.Canceled", err)
		}
		if info, err := q.Stat(); err != nil || info.Qnum != 1 {
			t.Errorf("after the cancelled send: %+v %v, want the one message", info, err)
		}
	})
}

// TestQueueSpinRemoved: a Receive and a Send that are spinning fail with
// EIDRM when the queue is removed, as calls blocked in the kernel do.
func TestQueueSpinRemoved(t *testing.T) {
	forEachImpl(t, func(t *testing.T, s *System, ns *shmtest.Namespace) {
		q := newQueue(t, s, IPCPrivate, 0o600)
		q.SetSpin(forever)
		got := spinReceive(t, ns, q, context.Background(), make([]byte, 8), 0, ReceiveOpts{})
		if err := q.Remove(); err != nil {
			t.Fatal(err)
		}
		if r := <-got; !errors.Is(r.err, unix.EIDRM) {
			t.Errorf("Receive spinning when the queue is removed: %+v, want EIDRM", r)
		}

		q = newQueue(t, s, IPCPrivate, 0o600)
		q.SetSpin(forever)
		if err := q.SetMaxBytes(4); err != nil {
			t.Fatal(err)
		}
		if err := q.Send(1, []byte("full")); err != nil {
			t.Fatal(err)
		}
		spinning, _ := watchSpin(t)
		sent := make(chan error, 1)
		ns.Go(t, func() { sent <- q.Send(1, []byte("more")) })
		awaitSpin(t, spinning)
		if err := q.Remove(); err != nil {
			t.Fatal(err)
		}
		if err := <-sent; !errors.Is(err, unix.EIDRM) {
			t.Errorf("Send spinning when the queue is removed: %v, want EIDRM", err)
		}
	})
}

// TestQueueSpinThenBlocks: a Receive with a budget of 3 yields 3 times,
// then blocks in msgrcv (its thread's wchan), and a later Send wakes it.
func TestQueueSpinThenBlocks(t *testing.T) {
	forEachImpl(t, func(t *testing.T, s *System, ns *shmtest.Namespace) {
		q := newQueue(t, s, IPCPrivate, 0o600)
		q.SetSpin(3)
		_, yields := watchSpin(t)
		got := make(chan spinResult, 1)
		buf := make([]byte, 8)
		ns.Go(t, func() {
			typ, n, err := q.Receive(buf, 4)
			got <- spinResult{typ, n, err}
		})
		waitReceivers(t, q, got)
		if n := yields.Load(); n != 3 {
			t.Errorf("%d yields before blocking, want 3", n)
		}
		if err := q.Send(4, []byte("late")); err != nil {
			t.Fatal(err)
		}
		if r := <-got; r.err != nil || r.typ != 4 || string(buf[:r.n]) != "late" {
			t.Errorf("the woken Receive: %+v %q", r, buf)
		}
	})
}

// TestQueueSpinAfterBlocked: a receiver blocked in the kernel gets a
// message before one that spins (the kernel hands it to the blocked one
// in msgsnd); the spinning one gets the next.
func TestQueueSpinAfterBlocked(t *testing.T) {
	forEachImpl(t, func(t *testing.T, s *System, ns *shmtest.Namespace) {
		blocking := newQueue(t, s, IPCPrivate, 0o600)
		blocking.SetSpin(0)
		spinner, err := s.OpenQueueID(blocking.ID()) // another *Queue, its own budget
		if err != nil {
			t.Fatal(err)
		}
		spinner.SetSpin(forever)
		blocked := make(chan spinResult, 1)
		bbuf := make([]byte, 8)
		ns.Go(t, func() {
			typ, n, err := blocking.Receive(bbuf, 0)
			blocked <- spinResult{typ, n, err}
		})
		waitReceivers(t, blocking, blocked)
		sbuf := make([]byte, 8)
		spun := spinReceive(t, ns, spinner, context.Background(), sbuf, 0, ReceiveOpts{})
		if err := blocking.Send(1, []byte("first")); err != nil {
			t.Fatal(err)
		}
		if r := <-blocked; r.err != nil || string(bbuf[:r.n]) != "first" {
			t.Errorf("the blocked receiver: %+v %q, want \"first\"", r, bbuf)
		}
		if err := blocking.Send(1, []byte("second")); err != nil {
			t.Fatal(err)
		}
		if r := <-spun; r.err != nil || string(sbuf[:r.n]) != "second" {
			t.Errorf("the spinning receiver: %+v %q, want \"second\"", r, sbuf)
		}
	})
}

// TestQueueSetSpin: SetSpin's budgets, and the default (none).
func TestQueueSetSpin(t *testing.T) {
	q := &Queue{}
	if got := q.spins(); got != 0 {
		t.Errorf("a new Queue spins %d times, want 0", got)
	}
	for _, c := range []struct{ set, want int }{{QueueSpin, QueueSpin}, {0, 0}, {5, 5}, {-7, 0}, {forever, forever}} {
		q.SetSpin(c.set)
		if got := q.spins(); got != c.want {
			t.Errorf("SetSpin(%d): %d yields, want %d", c.set, got, c.want)
		}
	}
}

// TestQueueSpinLongYield: a yield that keeps the caller off the CPU for
// longer than spinLongYield (here the hook stands in for another process
// holding the CPU for a time slice) ends the spin: the call blocks in
// msgrcv after that one yield, and calls on the queue do not spin for
// spinBackoff.
func TestQueueSpinLongYield(t *testing.T) {
	forEachImpl(t, func(t *testing.T, s *System, ns *shmtest.Namespace) {
		q := newQueue(t, s, IPCPrivate, 0o600)
		q.SetSpin(forever)
		yields := new(atomic.Int64)
		spinHook = func() {
			yields.Add(1)
			time.Sleep(2 * spinLongYield) // off the CPU for a long yield
		}
		t.Cleanup(func() { spinHook = nil })
		got := make(chan spinResult, 1)
		buf := make([]byte, 8)
		ns.Go(t, func() {
			typ, n, err := q.Receive(buf, 0)
			got <- spinResult{typ, n, err}
		})
		waitReceivers(t, q, got)
		if n := yields.Load(); n != 1 {
			t.Errorf("%d yields before blocking, want 1 (the long one)", n)
		}
		if err := q.Send(1, []byte("woken")); err != nil {
			t.Fatal(err)
		}
		if r := <-got; r.err != nil || string(buf[:r.n]) != "woken" {
			t.Errorf("the woken Receive: %+v %q", r, buf)
		}
		if !q.spinPaused() {
			t.Fatal("no pause after a long yield")
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ns.Go(t, func() {
			typ, n, err := q.ReceiveContext(ctx, buf, 0)
			got <- spinResult{typ, n, err}
		})
		waitReceivers(t, q, got)
		paused := q.spinPaused()
		cancel()
		if r := <-got; r.err != context.Canceled {
			t.Errorf("cancelled ReceiveContext: %+v", r)
		}
		if n := yields.Load(); paused && n != 1 {
			t.Errorf("%d yields in all, want the one: calls spun while paused", n)
		}
	})
}
