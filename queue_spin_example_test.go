package shmmap_test

import (
	"fmt"
	"log"

	"github.com/shmmap/shmmap"
)

// A queue whose answers come slowly (after milliseconds, say) gains
// nothing from the spin before blocking: SetSpin(0) blocks at once, and
// SetSpin(-1) restores the default, QueueSpin. Here a goroutine answers,
// whenever the scheduler runs it: Receive spins, then blocks if it must.
func ExampleQueue_SetSpin() {
	q, err := shmmap.CreateQueue(shmmap.IPCPrivate, 0o600)
	if err != nil {
		log.Fatal(err)
	}
	defer q.Remove()
	q.SetSpin(0)
	q.SetSpin(-1) // back to QueueSpin yields before blocking

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
