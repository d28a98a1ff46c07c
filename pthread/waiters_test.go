package pthread_test

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shmmap/shmmap/internal/futexwait"
	"github.com/shmmap/shmmap/internal/futexwait/futexwaittest"
	"github.com/shmmap/shmmap/pthread"
)

// TestMechanisms runs the blocking tests in a child process with each
// futex wait mechanism forced: the thread per waiter (the fallback), and
// the multiplexers (io_uring, futex_waitv workers) with no direct waits,
// so that every sleep of a goroutine free to move goes through them.
func TestMechanisms(t *testing.T) {
	if futexwaittest.IsChild() {
		t.Skip("a child process")
	}
	// The tests in which goroutines free to move between threads sleep
	// (robust, errorcheck and recursive waiters are wired to their thread
	// and sleep in it whatever the mechanism).
	tests := "^(TestCounter|TestOwnerDeath|TestLockContext|TestCondCrossWake|TestCondTimedWait|" +
		"TestCondBoundedBuffer|TestCondLostWakeupStress)$"
	if testing.Short() || raceEnabled {
		tests = "^(TestCounter|TestLockContext|TestCondCrossWake|TestCondTimedWait|TestCondLostWakeupStress)$"
	}
	for _, env := range futexwaittest.Forced() {
		t.Run(strings.Join(env, ","), func(t *testing.T) {
			futexwaittest.RunChild(t, tests, env...)
			// In a process of its own: the tests above leave threads.
			futexwaittest.RunChild(t, "^TestManyWaiters$", env...)
		})
	}
}

// manyWaiters is how many goroutines TestManyWaiters blocks.
func manyWaiters() int { return futexwaittest.ManyCount(raceEnabled) }

// TestManyWaiters: 10,000 goroutines blocked in Cond.Wait (on one
// condition variable, or each on its own) or in Lock on 10,000 contended
// normal mutexes hold at most GOMAXPROCS+8 OS threads (issue 14), and all
// wake and finish. It counts in a fresh process: earlier tests leave
// threads behind.
func TestManyWaiters(t *testing.T) {
	if futexwaittest.Many(t, "^TestManyWaiters$", raceEnabled) == 0 {
		return
	}
	if !futexwait.Scalable() {
		_, why := futexwait.Mechanism()
		t.Logf("futex waits multiplexed by futex_waitv workers (%s): a thread per 127 waiters is allowed", why)
	}
	t.Run("cond", func(t *testing.T) { testManyCondWaiters(t, false) })
	t.Run("conds", func(t *testing.T) { testManyCondWaiters(t, true) })
	t.Run("mutexes", testManyMutexWaiters)
}

// checkThreads polls until ready reports every waiter blocked and at least
// n-DefaultDirect waits armed in the multiplexer (the others may sleep in
// their thread for up to futexwait.DirectFor), then checks the process's
// thread count. It fails the test (without stopping it: the waiters must
// still be woken) after 30 seconds.
func checkThreads(t *testing.T, what string, n int, before int64, ready func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		armed := futexwait.InFlight() - before
		if armed >= int64(n-futexwait.DefaultDirect) && ready() {
			limit := runtime.GOMAXPROCS(0) + 8 + futexwait.ThreadsFor(n)
			tasks, err := os.ReadDir("/proc/self/task")
			if err != nil {
				t.Fatal(err)
			}
			got := len(tasks)
			t.Logf("%d %s blocked: %d OS threads (limit GOMAXPROCS+8+%d = %d)", n, what, got, futexwait.ThreadsFor(n), limit)
			if got > limit {
				t.Errorf("%d OS threads with %d %s blocked, want at most %d", got, n, what, limit)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("after 30s, %d of %d %s waits armed (ready %v)", armed, n, what, ready())
			return
		}
		time.Sleep(5 * time.Millisecond) // polling a condition, not ordering
	}
}

// testManyCondWaiters blocks n goroutines in Cond.Wait with a normal
// mutex, on one condvar (woken by Broadcast) or each on its own condvar
// and mutex (woken by Signal).
func testManyCondWaiters(t *testing.T, many bool) {
	n := manyWaiters()
	const stride = 128 // a mutex and a condvar, each cache-line aligned
	slots := 1
	if many {
		slots = n
	}
	mem := futexwaittest.SharedMem(t, slots, stride)
	ms := make([]*pthread.Mutex, slots)
	cs := make([]*pthread.Cond, slots)
	for i := range slots {
		var err error
		if ms[i], err = pthread.InitMutex(mem[i*stride:i*stride+64], pthread.MutexAttr{Type: pthread.MutexNormal}); err != nil {
			t.Fatal(err)
		}
		if cs[i], err = pthread.InitCond(mem[i*stride+64 : (i+1)*stride]); err != nil {
			t.Fatal(err)
		}
	}
	// waiting[i] counts the goroutines in Wait on slot i, done[i] is their
	// predicate; both are guarded by ms[i]. They are atomics only for the
	// race detector, which sees no ordering in atomics on memory outside
	// the Go heap, such as the mutex's.
	waiting := make([]atomic.Int32, slots)
	done := make([]atomic.Bool, slots)
	before := futexwait.InFlight()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		s := 0
		if many {
			s = i
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, c := ms[s], cs[s]
			if err := m.Lock(); err != nil {
				errs <- fmt.Errorf("waiter %d: Lock: %w", i, err)
				return
			}
			waiting[s].Add(1)
			for !done[s].Load() {
				if err := c.Wait(m); err != nil {
					errs <- fmt.Errorf("waiter %d: Wait: %w", i, err)
					break
				}
			}
			waiting[s].Add(-1)
			if err := m.Unlock(); err != nil {
				errs <- fmt.Errorf("waiter %d: Unlock: %w", i, err)
			}
		}()
	}
	count := func() (sum int) {
		for s := range slots {
			if err := ms[s].Lock(); err != nil {
				t.Fatal(err)
			}
			sum += int(waiting[s].Load())
			ms[s].Unlock()
		}
		return sum
	}
	what := "Cond.Wait waiters on one condvar"
	if many {
		what = "Cond.Wait waiters, each on its own condvar"
	}
	checkThreads(t, what, n, before, func() bool { return count() == n })
	for s := range slots {
		if err := ms[s].Lock(); err != nil {
			t.Fatal(err)
		}
		done[s].Store(true)
		var err error
		if many {
			err = cs[s].Signal()
		} else {
			err = cs[s].Broadcast()
		}
		if err != nil {
			t.Errorf("wake-up %d: %v", s, err) // its waiters then hang: the test times out
		}
		ms[s].Unlock()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := count(); got != 0 {
		t.Errorf("%d goroutines still counted in Wait", got)
	}
	if d := futexwait.InFlight() - before; d != 0 {
		t.Errorf("%d waits left armed", d)
	}
}

// testManyMutexWaiters blocks n goroutines in Lock, each on its own
// normal mutex, which the test holds, then unlocks them all.
func testManyMutexWaiters(t *testing.T) {
	n := manyWaiters()
	const stride = 64
	mem := futexwaittest.SharedMem(t, n, stride)
	ms := make([]*pthread.Mutex, n)
	for i := range ms {
		var err error
		if ms[i], err = pthread.InitMutex(mem[i*stride:(i+1)*stride], pthread.MutexAttr{Type: pthread.MutexNormal}); err != nil {
			t.Fatal(err)
		}
		if err := ms[i].Lock(); err != nil {
			t.Fatal(err)
		}
	}
	before := futexwait.InFlight()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	got := make([]bool, n)
	for i, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := m.Lock(); err != nil {
				errs <- fmt.Errorf("waiter %d: Lock: %w", i, err)
				return
			}
			got[i] = true
			if err := m.Unlock(); err != nil {
				errs <- fmt.Errorf("waiter %d: Unlock: %w", i, err)
			}
		}()
	}
	checkThreads(t, "Lock waiters on contended mutexes", n, before, func() bool {
		// A waiter marks the lock word contended (2) before it sleeps.
		for i := range ms {
			if pthread.LockWord(ms[i]) != 2 {
				return false
			}
		}
		return true
	})
	for i, m := range ms {
		if err := m.Unlock(); err != nil {
			t.Errorf("Unlock %d: %v", i, err) // its waiter then hangs: the test times out
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i, m := range ms {
		if !got[i] {
			t.Errorf("waiter %d did not get its mutex", i)
		}
		if w := pthread.LockWord(m); w != 0 {
			t.Errorf("mutex %d: lock word %d after the last unlock, want 0", i, w)
		}
	}
	if d := futexwait.InFlight() - before; d != 0 {
		t.Errorf("%d waits left armed", d)
	}
}
