package futexwait_test

import (
	"fmt"
	"sync/atomic"

	"github.com/shmmap/shmmap/internal/futexwait"
	"golang.org/x/sys/unix"
)

// A goroutine sleeps until another sets the word and wakes it; the waiter
// re-checks its condition after every return, as with the futex system
// call. With a shared word (flags 0) the waker could as well be a C process
// calling FUTEX_WAKE on the same page.
func ExampleWaiter() {
	var word uint32 // 0: not ready; 1: ready
	done := make(chan struct{})
	go func() {
		var w futexwait.Waiter
		defer w.Close() // before the word's memory may go
		for atomic.LoadUint32(&word) == 0 {
			if e := w.Wait(&word, 0, futexwait.Private, futexwait.Forever); e != 0 && e != unix.EAGAIN && e != unix.EINTR {
				fmt.Println("wait:", e)
				return
			}
		}
		fmt.Println("ready")
		close(done)
	}()
	atomic.StoreUint32(&word, 1)
	futexwait.Wake(&word, 1, futexwait.Private)
	<-done
	// Output: ready
}
