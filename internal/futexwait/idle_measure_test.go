package futexwait

import (
	"os"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// envIdleMeasure names the environment variable that runs
// TestIdleWakeupsMeasure for that long (a Go duration, e.g. "10s").
const envIdleMeasure = "FUTEXWAIT_IDLE_MEASURE"

// TestIdleWakeupsMeasure (only with FUTEXWAIT_IDLE_MEASURE set) parks
// 10,000 waits on unchanged words and reports, over the given time, the
// wake-ups of their goroutines, the recheck walks, this process's CPU time
// and its context switches (getrusage): what idle waits cost.
func TestIdleWakeupsMeasure(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv(envIdleMeasure))
	if err != nil || d <= 0 {
		t.Skipf("set %s to a duration to measure idle waits", envIdleMeasure)
	}
	if !Multiplexed() {
		_, why := Mechanism()
		t.Skipf("waits are not multiplexed: %s", why)
	}
	const n = 10000
	words := make([]uint32, n)
	done := make(chan struct{}, n)
	for i := range words {
		words[i] = 1
		go func() {
			var w Waiter
			defer w.Close()
			for atomic.LoadUint32(&words[i]) == 1 {
				w.Wait(&words[i], 1, 0, Forever)
			}
			done <- struct{}{}
		}()
	}
	waitUntil(t, "all waits armed", 30*time.Second, func() bool { return InFlight() >= n-DefaultDirect })
	var ru0, ru1 unix.Rusage
	var cpu0, cpu1 unix.Timespec
	wakes0 := parkedWakes.Load()
	unix.Getrusage(unix.RUSAGE_SELF, &ru0)
	unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &cpu0)
	time.Sleep(d) // the measurement window, not synchronisation
	unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &cpu1)
	unix.Getrusage(unix.RUSAGE_SELF, &ru1)
	wakes := parkedWakes.Load() - wakes0
	t.Logf("%s, %d idle waits (%s): %d goroutine wake-ups (%.0f/s), CPU %v (%.2f%% of a CPU), %d voluntary + %d involuntary context switches",
		d, n, mechanism, wakes, float64(wakes)/d.Seconds(), time.Duration(cpu1.Nano()-cpu0.Nano()),
		100*float64(cpu1.Nano()-cpu0.Nano())/float64(d.Nanoseconds()),
		ru1.Nvcsw-ru0.Nvcsw, ru1.Nivcsw-ru0.Nivcsw)
	for i := range words {
		atomic.StoreUint32(&words[i], 0)
		Wake(&words[i], 1, 0)
	}
	for range n {
		<-done
	}
}
