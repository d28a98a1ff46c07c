package ring_test

import (
	"context"
	"fmt"
	"log"

	"github.com/shmmap/shmmap/ring"
)

// A server that answers each request with its payload, in place: it reads
// the request where it lies in one ring (ReadFunc) and copies it straight
// into the room it claimed in the other (ClaimContext), one copy per
// message. ring.Copy is the built-in copy with the ring's copy routine,
// which matters for large messages (see Copy).
func ExampleCopy() {
	ctx := context.Background()
	requests, _ := ring.Init(make([]byte, ring.Size(1<<16)))
	responses, _ := ring.Init(make([]byte, ring.Size(1<<16)))
	reqP, _ := requests.Producer()
	reqC, _ := requests.Consumer()
	respP, _ := responses.Producer()
	respC, _ := responses.Consumer()

	// The client claims room for its request and fills it.
	req := []byte("echo this, please")
	b, err := reqP.ClaimContext(ctx, 1, len(req))
	if err != nil {
		log.Fatal(err)
	}
	ring.Copy(b, req)
	reqP.Commit()

	// The server copies the request into the response.
	err = reqC.ReadFunc(ctx, func(typ uint32, msg []byte) error {
		out, err := respP.ClaimContext(ctx, typ+1, len(msg))
		if err != nil {
			return err
		}
		ring.Copy(out, msg)
		return respP.Commit()
	})
	if err != nil {
		log.Fatal(err)
	}

	// The client copies the response out, into a buffer it keeps.
	resp := make([]byte, 64)
	var n int
	var typ uint32
	respC.ReadFunc(ctx, func(t uint32, msg []byte) error {
		typ, n = t, ring.Copy(resp, msg)
		return nil
	})
	fmt.Printf("type %d: %s\n", typ, resp[:n])
	// Output: type 2: echo this, please
}
