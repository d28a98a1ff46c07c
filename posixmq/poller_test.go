package posixmq_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shmmap/shmmap/posixmq"
)

// TestSendReceiveNoAllocs: Send and Receive allocate nothing, neither when
// the queue is ready nor when Receive waits in the poller: here a
// goroutine echoes each message from one queue to another, and the main
// goroutine's Receive of the echo waits for it.
func TestSendReceiveNoAllocs(t *testing.T) {
	ping := create(t, qname(t), 0, 4, 64)
	pong := create(t, qname(t), 0, 4, 64)
	msg, buf := make([]byte, 64), make([]byte, 64)
	if err := ping.Send(msg, 3); err != nil {
		t.Fatal(err)
	}
	if n, prio, err := ping.Receive(buf); err != nil || n != 64 || prio != 3 {
		t.Fatalf("Receive: %d, %d, %v", n, prio, err)
	}
	if a := testing.AllocsPerRun(100, func() {
		ping.Send(msg, 1)
		ping.Receive(buf)
	}); a != 0 {
		t.Errorf("Send+Receive on a ready queue: %v allocations, want 0", a)
	}

	echoed := make(chan error, 1)
	go func() {
		b := make([]byte, 64)
		for {
			n, _, err := ping.Receive(b)
			if err == nil {
				err = pong.Send(b[:n], 0)
			}
			if err != nil {
				echoed <- err
				return
			}
		}
	}()
	a := testing.AllocsPerRun(200, func() {
		if err := ping.Send(msg, 0); err != nil {
			t.Fatal(err)
		}
		if _, _, err := pong.Receive(buf); err != nil {
			t.Fatal(err)
		}
	})
	ping.Close() // ends the echo with ErrClosed
	<-echoed
	if a != 0 {
		t.Errorf("Send+Receive waiting for an echo: %v allocations, want 0", a)
	}
}

// epollTargets counts the descriptors registered with this process's
// epoll instances (the "tfd:" lines of their /proc/self/fdinfo).
func epollTargets(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fdinfo")
	if err != nil {
		t.Skip(err)
	}
	n := 0
	for _, fd := range fds {
		b, err := os.ReadFile("/proc/self/fdinfo/" + fd.Name())
		if err == nil {
			n += strings.Count(string(b), "\ntfd:")
		}
	}
	return n
}

// TestPollerOnlyOnWait: a queue joins the runtime's poller only when a
// call first waits on it (a registered descriptor is woken by every send
// and receive on its queue), and Close closes its descriptor either way.
func TestPollerOnlyOnWait(t *testing.T) {
	before := epollTargets(t)
	fdsBefore, _ := os.ReadDir("/proc/self/fd")
	q := create(t, qname(t), 0, 2, 16)
	buf := make([]byte, 16)
	if err := q.Send([]byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := q.Receive(buf); err != nil {
		t.Fatal(err)
	}
	if _, _, err := q.TryReceive(buf); !errors.Is(err, posixmq.ErrWouldBlock) {
		t.Fatalf("TryReceive on an empty queue: %v", err)
	}
	if got := epollTargets(t); got != before {
		t.Errorf("after calls that did not wait: %d descriptors in the poller, want %d", got, before)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	if _, _, err := q.ReceiveContext(ctx, buf); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ReceiveContext on an empty queue: %v", err)
	}
	if got := epollTargets(t); got != before+1 {
		t.Errorf("after a call that waited: %d descriptors in the poller, want %d", got, before+1)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	q2 := create(t, qname(t), 0, 2, 16)
	if err := q2.Close(); err != nil {
		t.Fatal(err)
	}
	if fds, _ := os.ReadDir("/proc/self/fd"); len(fds) != len(fdsBefore) {
		t.Errorf("%d descriptors open after Close, %d before Open", len(fds), len(fdsBefore))
	}
}
