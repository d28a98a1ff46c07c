package shmmap_test

import (
	"fmt"
	"log"

	"github.com/shmmap/shmmap"
)

// A queue whose peer runs on the same CPU and answers at once can spin
// before blocking (see Queue, "Spinning before blocking"); SetSpin(0)
// turns it off again. Here a goroutine answers, whenever the scheduler
// runs it: Receive spins, then blocks if it must.
func ExampleQueue_SetSpin() {
	q, err := shmmap.CreateQueue(shmmap.IPCPrivate, 0o600)
	if err != nil {
		log.Fatal(err)
	}
	defer q.Remove()
	q.SetSpin(shmmap.QueueSpin)

	go func() {
		if err := q.Send(7, []byte("answer")); err != nil {
			log.Fatal(err)
		}
	}()
	buf := make([]byte, 16)
	typ, n, err := q.Receive(buf, 7)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("type %d: %s\n", typ, buf[:n])
	// Output: type 7: answer
}
