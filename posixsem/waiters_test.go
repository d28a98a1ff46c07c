package posixsem_test

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shmmap/shmmap/internal/futexwait"
	"github.com/shmmap/shmmap/internal/futexwait/futexwaittest"
	"github.com/shmmap/shmmap/posixsem"
)

// TestManySemWaiters: 10,000 goroutines, each blocked in Wait on its own
// process-shared semaphore in one memfd mapping, hold at most
// GOMAXPROCS+8 OS threads (issue 14); then each semaphore is posted once
// and every waiter returns.
func TestManySemWaiters(t *testing.T) {
	n := futexwaittest.Many(t, "^TestManySemWaiters$", raceEnabled)
	if n == 0 {
		return
	}
	const stride = 64 // a cache line each
	mem := futexwaittest.SharedMem(t, n, stride)
	sems := make([]*posixsem.Semaphore, n)
	for i := range sems {
		var err error
		if sems[i], err = posixsem.Init(mem[i*stride:(i+1)*stride], 0); err != nil {
			t.Fatal(err)
		}
	}
	before := futexwait.InFlight()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i, s := range sems {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Wait(); err != nil {
				errs <- fmt.Errorf("waiter %d: %w", i, err)
			}
		}()
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		waiting := 0
		for _, s := range sems {
			if posixsem.Waiters(s) == 1 {
				waiting++
			}
		}
		armed := futexwait.InFlight() - before
		if waiting == n && armed >= int64(n-futexwait.DefaultDirect) {
			// With futex_waitv add a thread per 127 waits.
			limit := runtime.GOMAXPROCS(0) + 8 + futexwait.ThreadsFor(n)
			got := futexwaittest.OSThreads(t)
			t.Logf("%d semaphore waiters blocked: %d OS threads (limit GOMAXPROCS+8+%d = %d)", n, got, futexwait.ThreadsFor(n), limit)
			if got > limit {
				t.Errorf("%d OS threads with %d blocked waiters, want at most %d", got, n, limit)
			}
			break
		}
		if time.Now().After(deadline) {
			// Not Fatal: the waiters must be woken before the memory goes.
			t.Errorf("after 30s, %d of %d waiters registered, %d waits armed", waiting, n, armed)
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	for i, s := range sems {
		if err := s.Post(); err != nil {
			t.Errorf("Post %d: %v", i, err) // its waiter then hangs: the test times out
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i, s := range sems {
		if v, err := s.Value(); err != nil || v != 0 || posixsem.Waiters(s) != 0 {
			t.Errorf("semaphore %d after the wake-ups: value %d (%v), %d waiters, want 0 and 0", i, v, err, posixsem.Waiters(s))
		}
		s.Close()
	}
	if d := futexwait.InFlight() - before; d != 0 {
		t.Errorf("%d waits left armed", d)
	}
}

// TestMechanisms runs the blocking tests in a child process with each
// futex wait mechanism forced: the thread per waiter (the fallback), and
// the multiplexer with no direct waits, so that every sleep goes through
// io_uring.
func TestMechanisms(t *testing.T) {
	if futexwaittest.IsChild() {
		t.Skip("a child process")
	}
	tests := "^(TestStress|TestNarrowWakeups|TestCloseWhileWaiting|TestCrossManyWaiters)$"
	if raceEnabled {
		tests = "^(TestNarrowWakeups|TestCloseWhileWaiting|TestCrossManyWaiters)$" // TestStress is slow under the race detector
	}
	for _, env := range futexwaittest.Forced() {
		t.Run(strings.Join(env, ","), func(t *testing.T) {
			futexwaittest.RunChild(t, tests, env...)
			futexwaittest.RunChild(t, "^TestManySemWaiters$", env...)
		})
	}
}
