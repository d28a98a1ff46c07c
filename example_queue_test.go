package shmmap_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/shmmap/shmmap"
)

// A request goes on a queue as type 1; the answer comes back with the
// client's own type, as in the classic System V client/server.
func ExampleCreateQueue() {
	q, err := shmmap.CreateQueue(shmmap.IPCPrivate, 0o600)
	if err != nil {
		log.Fatal(err)
	}
	defer q.Remove() // nothing removes a queue implicitly

	if err := q.Send(1, []byte("ping")); err != nil {
		log.Fatal(err)
	}
	buf := make([]byte, 64)
	typ, n, err := q.Receive(buf, 1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("type %d: %s\n", typ, buf[:n])
	// Output: type 1: ping
}

// Receive's type chooses the message: 0 the first, a positive type the
// first of that type, a negative type the lowest type up to its absolute
// value; ReceiveOpts adds MSG_EXCEPT and MSG_NOERROR.
func ExampleQueue_ReceiveWith() {
	q, err := shmmap.CreateQueue(shmmap.IPCPrivate, 0o600)
	if err != nil {
		log.Fatal(err)
	}
	defer q.Remove()
	for _, m := range []struct {
		typ  int64
		text string
	}{{3, "three"}, {1, "one"}, {2, "two"}, {5, "a long five"}} {
		if err := q.Send(m.typ, []byte(m.text)); err != nil {
			log.Fatal(err)
		}
	}
	buf := make([]byte, 8)
	ctx := context.Background()
	for _, sel := range []struct {
		typ  int64
		opts shmmap.ReceiveOpts
	}{
		{-2, shmmap.ReceiveOpts{}},              // lowest type up to 2
		{3, shmmap.ReceiveOpts{Except: true}},   // the first not of type 3
		{0, shmmap.ReceiveOpts{}},               // the first
		{0, shmmap.ReceiveOpts{Truncate: true}}, // cut to the buffer
		{0, shmmap.ReceiveOpts{NoWait: true}},   // none left
	} {
		typ, n, err := q.ReceiveWith(ctx, buf, sel.typ, sel.opts)
		if errors.Is(err, shmmap.ErrWouldBlock) {
			fmt.Printf("%3d: empty\n", sel.typ)
			continue
		} else if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%3d: type %d %q\n", sel.typ, typ, buf[:n])
	}
	// Output:
	//  -2: type 1 "one"
	//   3: type 2 "two"
	//   0: type 3 "three"
	//   0: type 5 "a long f"
	//   0: empty
}

// ReceiveContext gives up when its context ends, taking nothing.
func ExampleQueue_ReceiveContext() {
	q, err := shmmap.CreateQueue(shmmap.IPCPrivate, 0o600)
	if err != nil {
		log.Fatal(err)
	}
	defer q.Remove()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, _, err = q.ReceiveContext(ctx, make([]byte, 16), 0)
	fmt.Println(err)
	// Output: context deadline exceeded
}

// TrySend reports a full queue instead of waiting.
func ExampleQueue_TrySend() {
	q, err := shmmap.CreateQueue(shmmap.IPCPrivate, 0o600)
	if err != nil {
		log.Fatal(err)
	}
	defer q.Remove()
	if err := q.SetMaxBytes(8); err != nil { // msg_qbytes
		log.Fatal(err)
	}
	for i := 1; ; i++ {
		if err := q.TrySend(1, []byte("four")); errors.Is(err, shmmap.ErrWouldBlock) {
			fmt.Println("full after", i-1, "messages")
			break
		} else if err != nil {
			log.Fatal(err)
		}
	}
	info, err := q.Stat()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("qnum", info.Qnum, "cbytes", info.Cbytes, "qbytes", info.Qbytes)
	// Output:
	// full after 2 messages
	// qnum 2 cbytes 8 qbytes 8
}

// ListQueues lists every queue, as ipcs -q does.
func ExampleListQueues() {
	q, err := shmmap.CreateQueue(shmmap.IPCPrivate, 0o640)
	if err != nil {
		log.Fatal(err)
	}
	defer q.Remove()
	if err := q.Send(7, []byte("hello")); err != nil {
		log.Fatal(err)
	}
	qs, err := shmmap.ListQueues()
	if err != nil {
		log.Fatal(err)
	}
	for _, info := range qs {
		if info.ID == q.ID() {
			fmt.Println(info.Mode, info.Qnum, info.Cbytes)
		}
	}
	// Output: -rw-r----- 1 5
}
