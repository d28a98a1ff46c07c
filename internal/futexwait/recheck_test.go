package futexwait

import (
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// shortenRecheck sets the recheck period to d for the test.
func shortenRecheck(t *testing.T, d time.Duration) {
	t.Helper()
	setRecheckEvery(d)
	t.Cleanup(func() { setRecheckEvery(0) })
}

// rechecksStopped waits until the recheck goroutine has exited (no wait
// is armed), which it must within a few periods.
func rechecksStopped(t *testing.T) {
	t.Helper()
	waitUntil(t, "the recheck goroutine to stop", 10*time.Second, func() bool { return !rechecker.running.Load() })
}

// TestRecheckLostWake changes a parked wait's word without FUTEX_WAKE, as
// a wake-up lost on the way would leave it: the wait must notice within
// recheckEvery and report EAGAIN (or a wake-up), not sleep forever.
func TestRecheckLostWake(t *testing.T) {
	if !Multiplexed() {
		name, why := Mechanism()
		t.Skipf("waits are not multiplexed here (%s: %s)", name, why)
	}
	shortenRecheck(t, 20*time.Millisecond)

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
	waitUntil(t, "the wait to reach the multiplexer", 10*time.Second, func() bool {
		return Armed(uintptr(unsafe.Pointer(word))) > 0
	})
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
	rechecksStopped(t)
}

// TestRecheckIdle parks many waits on words that do not change: over
// several recheck periods none of their goroutines may run (the recheck
// is one goroutine's walk, not a timer per wait). Then every word changes
// without FUTEX_WAKE: each wait must end (EAGAIN) within a few periods,
// woken once, and the recheck goroutine must stop once none is armed.
func TestRecheckIdle(t *testing.T) {
	if !Multiplexed() {
		name, why := Mechanism()
		t.Skipf("waits are not multiplexed here (%s: %s)", name, why)
	}
	n := 1000
	if raceEnabled || testing.Short() {
		n = 200
	}
	const period = 20 * time.Millisecond
	shortenRecheck(t, period)

	words := make([]uint32, n)
	results := make(chan unix.Errno, n)
	for i := range words {
		words[i] = 1
		go func() {
			var w Waiter
			defer w.Close()
			e := unix.EINTR
			for e == unix.EINTR { // a spurious return: wait again
				e = w.Wait(&words[i], 1, 0, Forever)
			}
			results <- e
		}()
	}
	waitUntil(t, "all waits armed", 20*time.Second, func() bool { return InFlight() == int64(n) })
	wakes0, walks0 := parkedWakes.Load(), rechecker.walks.Load()
	waitUntil(t, "4 recheck walks", 10*time.Second, func() bool { return rechecker.walks.Load() >= walks0+4 })
	if w := parkedWakes.Load() - wakes0; w != 0 {
		t.Errorf("%d wake-ups of %d parked waits over %d recheck walks of unchanged words, want 0",
			w, n, rechecker.walks.Load()-walks0)
	}
	if got := InFlight(); got != int64(n) {
		t.Errorf("%d waits armed after the walks, want %d", got, n)
	}

	wakes0 = parkedWakes.Load()
	for i := range words {
		atomic.StoreUint32(&words[i], 2) // no FUTEX_WAKE: every wake-up "lost"
	}
	deadline := time.After(10 * time.Second)
	for range n {
		select {
		case e := <-results:
			if e != unix.EAGAIN && e != 0 {
				t.Errorf("Wait: %v, want EAGAIN", e)
			}
		case <-deadline:
			t.Fatalf("%d of %d waits did not notice their word changed", InFlight(), n)
		}
	}
	if w := parkedWakes.Load() - wakes0; w < int64(n) || w > 2*int64(n) {
		t.Errorf("%d wake-ups for %d changed words, want one each (at most two)", w, n)
	}
	t.Logf("%d waits woken by the recheck, %d walks in all", n, rechecker.walks.Load()-walks0)
	rechecksStopped(t)
}

// TestRecheckTimeoutKept: a finite timeout still has its timer, a Keep
// wait left armed is rechecked while its caller is away, and the next
// Wait reports the change.
func TestRecheckTimeoutKept(t *testing.T) {
	if !Multiplexed() {
		name, why := Mechanism()
		t.Skipf("waits are not multiplexed here (%s: %s)", name, why)
	}
	shortenRecheck(t, 10*time.Millisecond)
	w := Waiter{Keep: true, long: true} // straight to the multiplexer
	defer w.Close()
	word := uint32(1)
	armKept(t, &w, &word)
	walks0 := rechecker.walks.Load()
	atomic.StoreUint32(&word, 2) // no FUTEX_WAKE
	waitUntil(t, "2 recheck walks", 10*time.Second, func() bool { return rechecker.walks.Load() >= walks0+2 })
	if e := w.Wait(&word, 1, 0, time.Hour); e != unix.EAGAIN && e != 0 {
		t.Fatalf("Wait on a kept wait whose word changed: %v, want EAGAIN", e)
	}
	if w.o != nil {
		t.Fatal("the wait is still armed")
	}
}

// TestRecheckForced runs the recheck tests in a child with each
// multiplexer forced and no direct waits.
func TestRecheckForced(t *testing.T) {
	if os.Getenv(EnvMechanism) != "" {
		t.Skip("already a child")
	}
	for _, m := range []string{IOURing, Waitv} {
		want := m
		if m == IOURing && !Scalable() {
			want = "" // falls back; the child logs to what
		}
		if _, err := newWaitvPool(); m == Waitv && err != nil {
			want = Thread
		}
		args := []string{"-test.run=^Test(Mechanism|Recheck.*)$", "-test.count=1", "-test.v"}
		if testing.Short() {
			args = append(args, "-test.short")
		}
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = append(os.Environ(), EnvMechanism+"="+m, EnvDirect+"=0", "FUTEXWAIT_WANT="+want)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "PASS") {
			t.Errorf("%s=%s: %v\n%s", EnvMechanism, m, err, out)
			continue
		}
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, "--- ") || strings.Contains(line, "mechanism") || strings.Contains(line, "woken by") {
				t.Logf("%s: %s", m, strings.TrimSpace(line))
			}
		}
	}
}

// armKept waits on *word (holding 1) with short timeouts until a timeout
// leaves the Keep waiter w armed on the multiplexer.
func armKept(t *testing.T, w *Waiter, word *uint32) {
	t.Helper()
	for {
		e := w.Wait(word, 1, 0, 5*time.Millisecond)
		if e == unix.ETIMEDOUT && w.o != nil {
			return
		}
		if e != unix.ETIMEDOUT && e != unix.EINTR {
			t.Fatalf("Wait: %v, want ETIMEDOUT", e)
		}
	}
}
