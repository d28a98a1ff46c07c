package futexwait

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// threads returns the number of OS threads of this process.
func threads(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// waitUntil polls cond until it holds or the deadline passes.
func waitUntil(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestMechanism(t *testing.T) {
	name, why := Mechanism()
	t.Logf("mechanism %s %s", name, why)
	want := os.Getenv("FUTEXWAIT_WANT")
	if want != "" && name != want {
		t.Fatalf("mechanism %s (%s), want %s", name, why, want)
	}
}

func TestValueDiffers(t *testing.T) {
	var w Waiter
	defer w.Close()
	word := uint32(7)
	if e := w.Wait(&word, 8, Private, time.Second); e != unix.EAGAIN {
		t.Fatalf("Wait with a different value: %v, want EAGAIN", e)
	}
	if e := w.Wait(&word, 8, Private, 0); e != unix.EAGAIN {
		t.Fatalf("Wait(0) with a different value: %v, want EAGAIN", e)
	}
	if e := w.Wait(&word, 7, Private, 0); e != unix.ETIMEDOUT {
		t.Fatalf("Wait(0) with the value: %v, want ETIMEDOUT", e)
	}
}

func TestTimeout(t *testing.T) {
	for _, keep := range []bool{false, true} {
		w := Waiter{Keep: keep}
		word := uint32(1)
		start := time.Now()
		// Longer than DirectFor, so a multiplexed wait runs too. EINTR
		// (a signal: Go preempts with SIGURG) is a spurious return.
		e := unix.EINTR
		for e == unix.EINTR {
			left := 20*time.Millisecond - time.Since(start)
			e = w.Wait(&word, 1, 0, max(left, 0))
		}
		if e != unix.ETIMEDOUT {
			t.Fatalf("keep=%v: Wait: %v, want ETIMEDOUT", keep, e)
		}
		if el := time.Since(start); el < 20*time.Millisecond {
			t.Fatalf("keep=%v: timed out after %v, before 20ms", keep, el)
		}
		if keep && Multiplexed() && w.o == nil {
			t.Fatalf("Keep: the wait is not armed after a timeout")
		}
		w.Close()
		if w.o != nil {
			t.Fatal("Close left a wait armed")
		}
	}
}

// TestWake wakes waiters that sleep long enough to have moved to the
// multiplexer, both shared and private words, and checks that a Keep
// waiter sees a wake-up that came between two Waits.
func TestWake(t *testing.T) {
	for _, flags := range []Flags{0, Private} {
		word := uint32(1)
		done := make(chan unix.Errno)
		go func() {
			var w Waiter
			defer w.Close()
			done <- w.Wait(&word, 1, flags, Forever)
		}()
		if Multiplexed() {
			waitUntil(t, "the wait to be armed", 5*time.Second, func() bool { return InFlight() > 0 })
		} else {
			time.Sleep(5 * time.Millisecond) // no handshake possible: a spurious return is allowed
		}
		atomic.StoreUint32(&word, 0)
		for {
			if _, err := Wake(&word, 1, flags); err != nil {
				t.Fatal(err)
			}
			select {
			case e := <-done:
				if e != 0 && e != unix.EAGAIN {
					t.Fatalf("flags %d: Wait: %v", flags, e)
				}
			case <-time.After(time.Millisecond):
				continue
			}
			break
		}
	}
	if !Multiplexed() {
		return
	}
	w := Waiter{Keep: true}
	defer w.Close()
	word := uint32(1)
	armKept(t, &w, &word)
	Wake(&word, 1, 0) // while nobody is in Wait
	if e := w.Wait(&word, 1, 0, time.Hour); e != 0 {
		t.Fatalf("Wait after a wake-up between waits: %v, want 0", e)
	}
}

// TestManyWaiters: 10,000 goroutines each waiting on its own word hold at
// most GOMAXPROCS+8 threads with io_uring (plus one per 127 waits with
// futex_waitv), and each is woken.
func TestManyWaiters(t *testing.T) {
	if !Multiplexed() {
		_, why := Mechanism()
		t.Skipf("waits are not multiplexed: %s", why)
	}
	n := 10000
	if raceEnabled {
		n = 2000 // the race detector makes 10,000 goroutines slow
	}
	words := make([]uint32, n)
	var wg sync.WaitGroup
	errs := make(chan unix.Errno, n)
	for i := range words {
		words[i] = 1
		wg.Add(1)
		go func() {
			defer wg.Done()
			var w Waiter
			defer w.Close()
			for atomic.LoadUint32(&words[i]) == 1 {
				if e := w.Wait(&words[i], 1, 0, Forever); e != 0 && e != unix.EAGAIN && e != unix.EINTR {
					errs <- e
					return
				}
			}
		}()
	}
	waitUntil(t, "all waits armed", 20*time.Second, func() bool { return InFlight() >= int64(n-DefaultDirect) })
	limit := runtime.GOMAXPROCS(0) + 8 + ThreadsFor(n)
	if got := threads(t); got > limit {
		t.Errorf("%d threads with %d waiters, want at most GOMAXPROCS+8+%d = %d", got, n, ThreadsFor(n), limit)
	} else {
		t.Logf("%d threads with %d waiters (limit %d)", got, n, limit)
	}
	for i := range words {
		atomic.StoreUint32(&words[i], 0)
		Wake(&words[i], 1, 0)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("Wait: %v", e)
	}
	if InFlight() != 0 {
		t.Errorf("%d waits still armed", InFlight())
	}
}

// TestForced runs this package's tests in a child with each mechanism
// forced through SHMMAP_FUTEXWAIT.
func TestForced(t *testing.T) {
	if os.Getenv(EnvMechanism) != "" {
		t.Skip("already a child")
	}
	for _, m := range []string{Thread, IOURing, Waitv} {
		want := m
		if m == IOURing && !Scalable() {
			want = "" // falls back; the child logs to what
		}
		if _, err := newWaitvPool(); m == Waitv && err != nil {
			want = Thread
		}
		cmd := exec.Command(os.Args[0], "-test.run=^Test(Mechanism|ValueDiffers|Timeout|Wake|ManyWaiters)$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), EnvMechanism+"="+m, "FUTEXWAIT_WANT="+want)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "PASS") {
			t.Errorf("%s=%s: %v\n%s", EnvMechanism, m, err, out)
		}
	}
}

// BenchmarkWaitValueDiffers: a Wait whose word no longer holds the value,
// one futex system call returning EAGAIN, as a hot ring wait often ends:
// the cost of the direct path's bookkeeping over the plain system call
// (thread), measured in the same run.
func BenchmarkWaitValueDiffers(b *testing.B) {
	setup()
	word := uint32(1)
	b.Run("syscall", func(b *testing.B) {
		for b.Loop() {
			threadWait(&word, 0, 0, time.Second)
		}
	})
	b.Run("Waiter", func(b *testing.B) {
		var w Waiter
		defer w.Close()
		for b.Loop() {
			w.Wait(&word, 0, 0, time.Second)
		}
	})
}
