package ring_test

import (
	"context"
	"fmt"
	"log"

	"github.com/shmmap/shmmap/ring"
)

// WriteBatch publishes several messages with one store of the producer
// position, and ReadBatch frees everything it has read with one store of
// the consumer position: the cost of the cross-core traffic is paid once
// per batch instead of once per message.
func ExampleProducer_WriteBatch() {
	r, _ := ring.Init(make([]byte, ring.Size(4096)))
	p, _ := r.Producer()
	c, _ := r.Consumer()
	ctx := context.Background()

	n, err := p.WriteBatch(ctx, []ring.Message{
		{Type: 1, Data: []byte("alpha")},
		{Type: 2, Data: []byte("beta")},
		{Type: 1, Data: []byte("gamma")},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("wrote", n)

	n, err = c.ReadBatch(ctx, 0, func(typ uint32, msg []byte) error {
		fmt.Printf("type %d: %s\n", typ, msg)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("read", n)
	// Output:
	// wrote 3
	// type 1: alpha
	// type 2: beta
	// type 1: gamma
	// read 3
}

// TryWriteBatch writes what fits now and says how many; TryReadBatch takes
// at most max messages per call.
func ExampleConsumer_TryReadBatch() {
	r, _ := ring.Init(make([]byte, ring.Size(64)))
	p, _ := r.Producer()
	c, _ := r.Consumer()
	msgs := make([]ring.Message, 6)
	for i := range msgs {
		msgs[i] = ring.Message{Type: uint32(i), Data: make([]byte, 8)}
	}
	n, err := p.TryWriteBatch(msgs)
	fmt.Println("wrote", n, "then", err)

	for {
		n, err := c.TryReadBatch(3, func(typ uint32, msg []byte) error { return nil })
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Println("read", n)
	}
	// Output:
	// wrote 4 then ring: full
	// read 3
	// read 1
	// ring: empty
}
