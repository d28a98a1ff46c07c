package queue_test

import (
	"fmt"

	"github.com/shmmap/shmmap/examples/pthreadqueue/queue"
)

// The producer's first items and the checksum both programs print, as
// queue_item and queue_sum in c/queue.h compute them.
func ExampleSum() {
	var sum uint64
	for i := uint32(1); i <= 3; i++ {
		v := queue.Item(i)
		sum = queue.Sum(sum, v)
		fmt.Printf("item %d: %016x\n", i, v)
	}
	fmt.Printf("checksum %016x\n", sum)
	// Output:
	// item 1: 9e3779b97f4a7c15
	// item 2: 3c6ef372fe94f82a
	// item 3: daa66d2c7ddf743f
	// checksum 8a9ee68e86b02700
}

// ParseCount reads N and K as the C producer's strtol does, and refuses
// what the C producer refuses.
func ExampleParseCount() {
	for _, s := range []string{"40", " +7", "-0", "-1", "12abc", "", "1000001"} {
		n, ok := queue.ParseCount(s)
		fmt.Printf("%q: %d %v\n", s, n, ok)
	}
	// Output:
	// "40": 40 true
	// " +7": 7 true
	// "-0": 0 true
	// "-1": 0 false
	// "12abc": 0 false
	// "": 0 false
	// "1000001": 0 false
}
