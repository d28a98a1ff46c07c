package posixmq_test

import (
	"testing"
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
