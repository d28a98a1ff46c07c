package futexwait

import (
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestRecheckLostWake changes a parked wait's word without FUTEX_WAKE, as
// a wake-up lost on the way would leave it: the wait must notice within
// recheckEvery and report EAGAIN (or a wake-up), not sleep forever.
func TestRecheckLostWake(t *testing.T) {
	if !Multiplexed() {
		name, why := Mechanism()
		t.Skipf("waits are not multiplexed here (%s: %s)", name, why)
	}
	old := recheckEvery
	recheckEvery = 20 * time.Millisecond
	t.Cleanup(func() { recheckEvery = old })

	word := new(uint32)
	*word = 1
	done := make(chan unix.Errno, 1)
	go func() {
		var w Waiter
		for {
			// -1: no limit; EINTR (SIGURG preemption) is spurious.
			if e := w.Wait(word, 1, 0, -1); e != unix.EINTR {
				done <- e
				return
			}
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for Armed(uintptr(unsafe.Pointer(word))) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the wait never reached the multiplexer")
		}
		time.Sleep(time.Millisecond) // polling a condition, not ordering
	}
	atomic.StoreUint32(word, 2) // no FUTEX_WAKE: the wake-up is "lost"
	select {
	case e := <-done:
		if e != unix.EAGAIN && e != 0 {
			t.Fatalf("Wait: %v, want EAGAIN", e)
		}
	case <-time.After(5 * time.Second):
		Wake(word, 1, 0) // let the goroutine end
		t.Fatal("the wait did not notice its word changed")
	}
	if n := Armed(uintptr(unsafe.Pointer(word))); n != 0 {
		t.Fatalf("%d waits still armed on the word", n)
	}
}
