package posixmq_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/shmmap/shmmap/posixmq"
)

// A queue that C processes open with mq_open("/jobs", O_RDWR): the highest
// priority comes out first, whichever language sent it.
func ExampleOpen() {
	name := fmt.Sprintf("/posixmq-example-open-%d", os.Getpid())
	q, err := posixmq.Open(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600, &posixmq.Attr{MaxMsg: 8, MsgSize: 64})
	if err != nil {
		log.Fatal(err)
	}
	defer posixmq.Unlink(name)
	defer q.Close()

	q.Send([]byte("routine"), 1)
	q.Send([]byte("urgent"), 9)
	attr, _ := q.Attr()
	fmt.Println("queued:", attr.CurMsgs, "of", attr.MaxMsg)

	buf := make([]byte, attr.MsgSize)
	for range attr.CurMsgs {
		n, prio, err := q.Receive(buf)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("priority %d: %s\n", prio, buf[:n])
	}
	// Output:
	// queued: 2 of 8
	// priority 9: urgent
	// priority 1: routine
}

// ReceiveContext waits in the Go runtime's poller and gives up when the
// context ends.
func ExampleQueue_ReceiveContext() {
	name := fmt.Sprintf("/posixmq-example-ctx-%d", os.Getpid())
	q, err := posixmq.Open(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600, &posixmq.Attr{MaxMsg: 4, MsgSize: 16})
	if err != nil {
		log.Fatal(err)
	}
	defer posixmq.Unlink(name)
	defer q.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	buf := make([]byte, 16)
	_, _, err = q.ReceiveContext(ctx, buf)
	fmt.Println(errors.Is(err, context.DeadlineExceeded))

	go q.Send([]byte("hello"), 0)
	n, _, err := q.ReceiveContext(context.Background(), buf)
	fmt.Printf("%s %v\n", buf[:n], err)
	// Output:
	// true
	// hello <nil>
}

// The Try forms never wait: on an empty queue TryReceive reports
// ErrWouldBlock.
func ExampleQueue_TryReceive() {
	name := fmt.Sprintf("/posixmq-example-try-%d", os.Getpid())
	q, err := posixmq.Open(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600, &posixmq.Attr{MaxMsg: 1, MsgSize: 8})
	if err != nil {
		log.Fatal(err)
	}
	defer posixmq.Unlink(name)
	defer q.Close()

	buf := make([]byte, 8)
	_, _, err = q.TryReceive(buf)
	fmt.Println(errors.Is(err, posixmq.ErrWouldBlock))
	fmt.Println(q.TrySend([]byte("one"), 0))
	err = q.TrySend([]byte("two"), 0) // the queue holds one message
	fmt.Println(errors.Is(err, posixmq.ErrWouldBlock))
	// Output:
	// true
	// <nil>
	// true
}
