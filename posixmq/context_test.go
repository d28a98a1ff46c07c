package posixmq_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/shmmap/shmmap/posixmq"
	"github.com/shmmap/shmmap/shmtest"
	"golang.org/x/sys/unix"
)

// prompt is how soon a call must return once its context ends or its
// queue is closed: far above the few microseconds it takes, far below a
// hang.
const prompt = 2 * time.Second

// TestCancelWhileBlocked cancels a ReceiveContext on an empty queue and a
// SendContext on a full one while they wait in the poller: each returns
// ctx.Err() promptly, and the queue is as it was.
func TestCancelWhileBlocked(t *testing.T) {
	q := create(t, qname(t), 0, 1, 8)
	for _, op := range []string{"receive", "send"} {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			var err error
			if op == "receive" {
				_, _, err = q.ReceiveContext(ctx, make([]byte, 8))
			} else {
				err = q.SendContext(ctx, []byte("second"), 0)
			}
			done <- err
		}()
		waitParked(t, 1)
		start := time.Now()
		cancel()
		select {
		case err := <-done:
			if err != context.Canceled {
				t.Errorf("%s: %v, want ctx.Err() (context.Canceled)", op, err)
			}
			if d := time.Since(start); d > prompt {
				t.Errorf("%s returned %v after the cancel", op, d)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s still blocked 10s after the cancel", op)
		}
		if op == "receive" {
			// Fill the queue for the send.
			if err := q.TrySend([]byte("first"), 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	attr, err := q.Attr()
	if err != nil || attr.CurMsgs != 1 {
		t.Fatalf("Attr = %+v, %v; want the one message sent before the cancelled send", attr, err)
	}
	buf := make([]byte, 8)
	if n, _, err := q.TryReceive(buf); err != nil || string(buf[:n]) != "first" {
		t.Fatalf("TryReceive = %q, %v; want \"first\"", buf[:max(n, 0)], err)
	}
}

// TestDeadline: a wait ends with context.DeadlineExceeded at the deadline,
// not before.
func TestDeadline(t *testing.T) {
	q := create(t, qname(t), 0, 1, 8)
	const d = 50 * time.Millisecond
	start := time.Now() // before the deadline is set: a preemption in between must not shorten the wait measured
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_, _, err := q.ReceiveContext(ctx, make([]byte, 8))
	if elapsed := time.Since(start); err != context.DeadlineExceeded || elapsed < d || elapsed > d+prompt {
		t.Fatalf("ReceiveContext = %v after %v; want context.DeadlineExceeded after %v", err, elapsed, d)
	}
}

// TestCloseWakesWaiters: Close wakes a blocked Receive with ErrClosed, and
// every later call returns ErrClosed.
func TestCloseWakesWaiters(t *testing.T) {
	name := qname(t)
	q, err := posixmq.Open(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600, &posixmq.Attr{MaxMsg: 1, MsgSize: 8})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 2)
	go func() { _, _, err := q.Receive(make([]byte, 8)); done <- err }()
	go func() { _, _, err := q.ReceiveContext(context.Background(), make([]byte, 8)); done <- err }()
	waitParked(t, 2)
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		select {
		case err := <-done:
			if !errors.Is(err, posixmq.ErrClosed) {
				t.Errorf("blocked Receive after Close: %v, want ErrClosed", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Receive still blocked 10s after Close")
		}
	}
	if err := q.Send(nil, 0); !errors.Is(err, posixmq.ErrClosed) {
		t.Errorf("Send after Close: %v", err)
	}
	if _, err := q.Attr(); !errors.Is(err, posixmq.ErrClosed) {
		t.Errorf("Attr after Close: %v", err)
	}
	if err := q.Close(); !errors.Is(err, posixmq.ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
}

// TestCancelRacesArrival cancels ReceiveContext as a message arrives, many
// times: each message is received exactly once, by the ReceiveContext or
// by the TryReceive after it, never lost and never twice. Likewise a
// SendContext cancelled as room appears has sent its message exactly when
// it returned nil.
func TestCancelRacesArrival(t *testing.T) {
	rounds := 2000
	if testing.Short() {
		rounds = 300
	}
	q := create(t, qname(t), 0, 1, 8)
	buf, buf2 := make([]byte, 8), make([]byte, 8)
	var byReceive, byTry int
	for i := range rounds {
		ctx, cancel := context.WithCancel(context.Background())
		msg := binary.LittleEndian.AppendUint64(nil, uint64(i))
		var got []uint64
		var wg sync.WaitGroup
		wg.Add(2)
		var rerr error
		go func() {
			defer wg.Done()
			var n int
			if n, _, rerr = q.ReceiveContext(ctx, buf); rerr == nil {
				got = append(got, binary.LittleEndian.Uint64(buf[:n]))
			}
		}()
		go func() { defer wg.Done(); q.Send(msg, 0) }()
		if i%2 == 0 {
			runtime.Gosched()
		}
		cancel()
		wg.Wait()
		if rerr == nil {
			byReceive++
		} else if rerr != context.Canceled {
			t.Fatalf("round %d: ReceiveContext: %v", i, rerr)
		}
		for {
			n, _, err := q.TryReceive(buf2)
			if errors.Is(err, posixmq.ErrWouldBlock) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, binary.LittleEndian.Uint64(buf2[:n]))
			byTry++
		}
		if len(got) != 1 || got[0] != uint64(i) {
			t.Fatalf("round %d: received %v, want [%d] exactly once", i, got, i)
		}
	}
	t.Logf("%d rounds: %d messages taken by ReceiveContext, %d left for TryReceive", rounds, byReceive, byTry)

	// Sends: the queue holds one message; a receiver makes room as the
	// sender's context is cancelled.
	if err := q.Send([]byte{0xff}, 0); err != nil {
		t.Fatal(err)
	}
	var sent, notSent int
	for i := range rounds {
		ctx, cancel := context.WithCancel(context.Background())
		var serr error
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			serr = q.SendContext(ctx, binary.LittleEndian.AppendUint64(nil, uint64(i)), 0)
		}()
		var n int
		var rerr error
		go func() { defer wg.Done(); n, _, rerr = q.Receive(buf) }()
		if i%2 == 0 {
			runtime.Gosched()
		}
		cancel()
		wg.Wait()
		if rerr != nil || n < 1 {
			t.Fatalf("round %d: Receive: %d, %v", i, n, rerr)
		}
		// The queue now holds the new message if and only if the send
		// succeeded.
		attr, err := q.Attr()
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case serr == nil && attr.CurMsgs == 1:
			sent++
		case serr == context.Canceled && attr.CurMsgs == 0:
			notSent++
			if err := q.Send([]byte{0xff}, 0); err != nil { // full again
				t.Fatal(err)
			}
		default:
			t.Fatalf("round %d: SendContext %v, and %d messages in the queue", i, serr, attr.CurMsgs)
		}
	}
	t.Logf("%d rounds: %d sends done, %d cancelled", rounds, sent, notSent)
}

// TestConcurrentReceivers: many goroutines receive from one queue while
// others send; every message is received exactly once.
func TestConcurrentReceivers(t *testing.T) {
	q := create(t, qname(t), 0, 4, 8)
	const receivers, perReceiver = 16, 200
	got := make(chan uint64, receivers*perReceiver)
	var wg sync.WaitGroup
	for range receivers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 8)
			for range perReceiver {
				n, _, err := q.ReceiveContext(context.Background(), buf)
				if err != nil || n != 8 {
					t.Errorf("ReceiveContext: %d, %v", n, err)
					return
				}
				got <- binary.LittleEndian.Uint64(buf)
			}
		}()
	}
	for i := range receivers * perReceiver {
		if err := q.SendContext(context.Background(), binary.LittleEndian.AppendUint64(nil, uint64(i)), 0); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(got)
	seen := make([]bool, receivers*perReceiver)
	for v := range got {
		if v >= uint64(len(seen)) || seen[v] {
			t.Fatalf("message %d received twice or never sent", v)
		}
		seen[v] = true
	}
	for i, ok := range seen {
		if !ok {
			t.Fatalf("message %d never received", i)
		}
	}
}

// TestThreadsPerWaiter: 1,000 goroutines blocked in ReceiveContext on
// 1,000 queues wait in the poller, on at most GOMAXPROCS+8 OS threads, and
// all return with their message.
func TestThreadsPerWaiter(t *testing.T) {
	const n = 1000
	// A private IPC namespace has its own mqueue limits, which root may
	// raise: queues_max is 256 by default, and only CAP_SYS_RESOURCE
	// exceeds it.
	shmtest.Isolate(t)
	if err := os.WriteFile("/proc/sys/fs/mqueue/queues_max", []byte("2000\n"), 0); err != nil {
		t.Logf("cannot raise the namespace's queues_max: %v", err)
	}
	queues := make([]*posixmq.Queue, n)
	for i := range queues {
		q, err := posixmq.Open(qname(t), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600, &posixmq.Attr{MaxMsg: 1, MsgSize: 8})
		if err != nil {
			if errors.Is(err, unix.ENOSPC) || errors.Is(err, unix.EMFILE) || errors.Is(err, unix.ENFILE) {
				t.Skipf("cannot open %d queues here (queue %d: %v): raise /proc/sys/fs/mqueue/queues_max, RLIMIT_MSGQUEUE or RLIMIT_NOFILE, or run as root", n, i, err)
			}
			t.Fatal(err)
		}
		t.Cleanup(func() { q.Close() })
		queues[i] = q
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errs := make(chan error, n)
	for i, q := range queues {
		go func() {
			buf := make([]byte, 8)
			m, _, err := q.ReceiveContext(ctx, buf)
			if err == nil && (m != 8 || binary.LittleEndian.Uint64(buf) != uint64(i)) {
				err = fmt.Errorf("queue %d: received % x", i, buf[:m])
			}
			errs <- err
		}()
	}
	waitParked(t, n)
	tasks, err := filepath.Glob("/proc/self/task/*")
	if err != nil {
		t.Fatal(err)
	}
	limit := runtime.GOMAXPROCS(0) + 8
	t.Logf("%d goroutines waiting, %d OS threads (GOMAXPROCS %d)", n, len(tasks), runtime.GOMAXPROCS(0))
	if len(tasks) > limit {
		t.Errorf("%d OS threads with %d goroutines waiting; want at most GOMAXPROCS+8 = %d", len(tasks), n, limit)
	}
	for i, q := range queues {
		if err := q.Send(binary.LittleEndian.AppendUint64(nil, uint64(i)), 0); err != nil {
			t.Fatal(err)
		}
	}
	for range n {
		select {
		case err := <-errs:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("receivers still waiting 20s after every queue got its message")
		}
	}
}
