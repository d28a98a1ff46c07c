package futexwait

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// theURing returns the process's io_uring, or skips.
func theURing(t *testing.T) *uring {
	t.Helper()
	setup()
	u, ok := theMux.(*uring)
	if !ok {
		_, why := Mechanism()
		t.Skipf("io_uring futex waits not in use: %s", why)
	}
	return u
}

// recv waits for an op's result, failing after d.
func recv(t *testing.T, o *op, d time.Duration, what string) int32 {
	t.Helper()
	select {
	case res := <-o.done:
		return res
	case <-time.After(d):
		t.Fatalf("%s: no result after %v", what, d)
	}
	return 0
}

// sleepingIn reports whether some thread of this process is inside system
// call nr (/proc/self/task/TID/syscall).
func sleepingIn(nr int) bool {
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return false
	}
	for _, e := range ents {
		b, err := os.ReadFile("/proc/self/task/" + e.Name() + "/syscall")
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) > 0 && f[0] == strconv.Itoa(nr) {
			return true
		}
	}
	return false
}

// TestCancelLeavesNoSleeper: once a cancelled wait's result is in (Wait
// or Close has returned), no kernel wait is queued on the word any more.
// A FUTEX_WAKE on it must find nobody: a sleeper left queued would take a
// wake-up meant for a real waiter (a C process sleeping on the same
// semaphore), which would then sleep on — a lost wake-up.
func TestCancelLeavesNoSleeper(t *testing.T) {
	muxes := map[string]func() (mux, error){
		"waitv": func() (mux, error) { return newWaitvPool() },
		"iouring": func() (mux, error) {
			setup()
			if u, ok := theMux.(*uring); ok {
				return u, nil
			}
			return nil, fmt.Errorf("io_uring not in use")
		},
	}
	for name, mk := range muxes {
		t.Run(name, func(t *testing.T) {
			m, err := mk()
			if err != nil {
				t.Skip(err)
			}
			rounds := 200
			if testing.Short() || raceEnabled {
				rounds = 50
			}
			word := new(uint32)
			*word = 1
			for round := range rounds {
				o, err := m.arm(word, 1, Private)
				if err != nil {
					t.Fatal(err)
				}
				// Let the wait reach the kernel: the worker in futex_waitv,
				// or the io_uring request queued.
				if name == "waitv" {
					waitUntil(t, "the worker in futex_waitv", 5*time.Second, func() bool { return sleepingIn(unix.SYS_FUTEX_WAITV) })
				}
				m.cancel(o)
				res := recv(t, o, 5*time.Second, "cancel")
				m.release(o)
				n, err := Wake(word, 1, Private)
				if err != nil {
					t.Fatal(err)
				}
				if n != 0 {
					t.Fatalf("round %d: a FUTEX_WAKE after the cancelled wait's result (%d) woke %d sleeper(s) on the word", round, res, n)
				}
			}
		})
	}
}

// TestURingCancelRacesWake: a cancel racing a FUTEX_WAKE. When the wake
// reports that it woke the wait, the wait's result must be 0 (the wake-up
// is reported, not lost to the cancel); otherwise -ECANCELED.
func TestURingCancelRacesWake(t *testing.T) {
	u := theURing(t)
	rounds := 2000
	if testing.Short() || raceEnabled {
		rounds = 300
	}
	word := new(uint32)
	*word = 1
	woken, cancelled := 0, 0
	for round := range rounds {
		o, _ := u.arm(word, 1, Private)
		wakes := make(chan int, 1)
		go func() {
			for range round % 7 {
				runtime.Gosched()
			}
			n, _ := Wake(word, 1, Private)
			wakes <- n
		}()
		for range round % 5 {
			runtime.Gosched()
		}
		u.cancel(o)
		res := recv(t, o, 5*time.Second, "cancel")
		u.release(o)
		n := <-wakes
		switch {
		case n == 1 && res != 0:
			t.Fatalf("round %d: FUTEX_WAKE woke the wait, but its result is %d, not 0", round, res)
		case n == 0 && res != -int32(unix.ECANCELED):
			t.Fatalf("round %d: nobody woken, result %d, want -ECANCELED", round, res)
		case n == 1:
			woken++
		default:
			cancelled++
		}
	}
	t.Logf("%d rounds: %d woken, %d cancelled", rounds, woken, cancelled)
}

// TestURingOverflow: more completions at once than the completion queue
// holds, with the reaper held off until the queue is full and the rest
// went to the kernel's overflow list: every wait still gets its result.
//
// It runs on a ring of its own, set up for it: after the process's ring
// has seen many waits complete, the same burst has been seen (Linux 6.18,
// this machine, a few runs in ten) to lose the first up to 32 waits — in
// no futex queue (FUTEX_WAKE does not find them) and never completed —
// the size of the kernel's cache of futex wait data (see the review
// notes). SHMMAP_FUTEXWAIT_SHARED_RING=1 runs it on the process's ring.
func TestURingOverflow(t *testing.T) {
	theURing(t)
	u, err := newURing()
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("SHMMAP_FUTEXWAIT_SHARED_RING") != "" {
		u = theURing(t)
	}
	cqSize := int(u.cqMask + 1)
	n := cqSize + cqSize/4
	word := new(uint32)
	*word = 1
	ops := make([]*op, n)
	for i := range ops {
		ops[i], _ = u.arm(word, 1, Private)
	}
	waitUntil(t, "all waits queued", 20*time.Second, func() bool { return u.pending() == 0 })
	reapMu.Lock()
	woke := 0
	for woke < n {
		k, err := Wake(word, n-woke, Private)
		if err != nil {
			reapMu.Unlock()
			t.Fatal(err)
		}
		woke += k
		if k == 0 {
			break
		}
	}
	if woke != n {
		reapMu.Unlock()
		// Diagnose: which waits neither were woken nor have a result, and
		// the kernel's view of the ring.
		time.Sleep(100 * time.Millisecond)
		k, _ := Wake(word, n, Private)
		hist := map[int32]int{}
		var missing []uint64
		for _, o := range ops {
			select {
			case res := <-o.done:
				hist[res]++
			default:
				missing = append(missing, o.ud)
			}
		}
		// Are they still registered with the ring? A cancel finds them
		// (-ECANCELED) or not (no result).
		cancelled := map[int32]int{}
		for _, o := range ops {
			if len(o.done) == 0 && o.addr != 0 {
				u.cancel(o)
				select {
				case res := <-o.done:
					cancelled[res]++
				case <-time.After(100 * time.Millisecond):
					cancelled[1]++
				}
			}
		}
		t.Logf("cancelling the waits without a result: %v (1: none)", cancelled)
		fi, _ := os.ReadFile(fmt.Sprintf("/proc/self/fdinfo/%d", u.fd))
		t.Fatalf("a FUTEX_WAKE woke %d of %d waits (%d more later); results %v; no result for %d waits (user_data %x)\n%s",
			woke, n, k, hist, len(missing), missing[:min(len(missing), 40)], fi)
	}
	overflowed := func() bool {
		return atomic.LoadUint32(u.cqTail)-atomic.LoadUint32(u.cqHead) == uint32(cqSize) &&
			atomic.LoadUint32(u.sqFlags)&ioringSQCQOverflow != 0
	}
	deadline := time.Now().Add(10 * time.Second)
	for !overflowed() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	ok := overflowed()
	reapMu.Unlock()
	if !ok {
		t.Fatalf("the completion queue did not overflow (%d completions pending)", atomic.LoadUint32(u.cqTail)-atomic.LoadUint32(u.cqHead))
	}
	for i, o := range ops {
		if res := recv(t, o, 10*time.Second, fmt.Sprintf("wait %d of %d", i, n)); res != 0 {
			t.Fatalf("wait %d: result %d, want 0", i, res)
		}
		u.release(o)
	}
}

// TestURingSQFull: a burst of waits larger than the submission queue
// while another goroutine holds the submitter's role: arm submits the full
// queue itself and every wait is queued.
func TestURingSQFull(t *testing.T) {
	u := theURing(t)
	u.mu.Lock()
	if u.submitting {
		u.mu.Unlock()
		t.Skip("a submission is in progress")
	}
	u.submitting = true // as if another goroutine were in submit
	u.mu.Unlock()
	n := int(3*u.sqEntries + 5)
	word := new(uint32)
	*word = 1
	ops := make([]*op, n)
	for i := range ops {
		ops[i], _ = u.arm(word, 1, Private)
	}
	u.mu.Lock()
	u.submitting = false
	u.mu.Unlock()
	u.submit()
	if p := u.pending(); p != 0 {
		t.Fatalf("%d entries left unsubmitted", p)
	}
	atomic.StoreUint32(word, 0)
	woke := 0
	waitUntil(t, "every wait woken", 10*time.Second, func() bool {
		k, _ := Wake(word, n, Private)
		woke += k
		return woke == n
	})
	for i, o := range ops {
		if res := recv(t, o, 10*time.Second, fmt.Sprintf("wait %d", i)); res != 0 {
			t.Fatalf("wait %d: result %d, want 0", i, res)
		}
		u.release(o)
	}
}

// TestURingCloexec: the ring and its eventfd are close-on-exec, so that a
// child started by os/exec does not inherit them.
func TestURingCloexec(t *testing.T) {
	u := theURing(t)
	for _, fd := range []int{u.fd, int(u.efd.Fd())} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/self/fdinfo/%d", fd))
		if err != nil {
			t.Fatal(err)
		}
		var flags int64 = -1
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "flags:"); ok {
				flags, _ = strconv.ParseInt(strings.TrimSpace(v), 8, 64)
			}
		}
		if flags < 0 || flags&unix.O_CLOEXEC == 0 {
			t.Errorf("fd %d: flags %o, no O_CLOEXEC", fd, flags)
		}
	}
}

// TestURingSubmitterExits: the thread that submitted a wait exits (a
// goroutine that ends while locked to its thread). The wait still gets a
// result: Linux 6.18 cancels it at the exit (-ECANCELED, which Wait
// reports as a spurious EINTR); a kernel that keeps it completes it on the
// wake (0). It never hangs.
func TestURingSubmitterExits(t *testing.T) {
	u := theURing(t)
	word := new(uint32)
	*word = 1
	armed := make(chan *op)
	tids := make(chan int, 1)
	var start func()
	start = func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		if unix.Gettid() == unix.Getpid() {
			// Go never ends the main thread: try another.
			go start()
			runtime.UnlockOSThread()
			return
		}
		tids <- unix.Gettid()
		o, _ := u.arm(word, 1, Private)
		armed <- o
	}
	go start()
	o := <-armed
	tid := <-tids
	waitUntil(t, "the submitting thread to exit", 10*time.Second, func() bool {
		_, err := os.Stat(fmt.Sprintf("/proc/self/task/%d", tid))
		return err != nil
	})
	atomic.StoreUint32(word, 0)
	n, err := Wake(word, 1, Private)
	if err != nil {
		t.Fatal(err)
	}
	res := recv(t, o, 10*time.Second, "the wait of an exited thread")
	u.release(o)
	if res != 0 && res != -int32(unix.ECANCELED) {
		t.Fatalf("result %d (woke %d)", res, n)
	}
	t.Logf("woke %d, result %d", n, res)
}

// enomemMux is a multiplexer whose waits fail as io_uring's does when it
// cannot allocate a futex wait's data.
type enomemMux struct{}

func (enomemMux) arm(*uint32, uint32, Flags) (*op, error) {
	o := newOp()
	o.done <- -int32(unix.ENOMEM)
	return o, nil
}
func (enomemMux) cancel(*op)        {}
func (enomemMux) release(*op)       {}
func (enomemMux) armed(uintptr) int { return 0 }
func (enomemMux) inFlight() int64   { return 0 }
func (enomemMux) recheck() int      { return 0 }

// TestWaitENOMEM: a multiplexed wait the kernel could not allocate is not
// an error for the caller (ring and posixsem would fail a blocking call):
// the wait sleeps in its thread instead.
func TestWaitENOMEM(t *testing.T) {
	setup()
	// The recheck goroutine runs for one multiplexer: let the one for
	// theMux stop before the swap, and the one for enomemMux after.
	shortenRecheck(t, 5*time.Millisecond)
	rechecksStopped(t)
	saved := theMux
	theMux = enomemMux{}
	defer func() {
		rechecksStopped(t)
		theMux = saved
	}()
	word := uint32(1)
	w := Waiter{long: true} // straight to the multiplexer
	defer w.Close()
	if e := w.Wait(&word, 2, Private, time.Second); e != unix.EAGAIN {
		t.Fatalf("Wait with a different value: %v, want EAGAIN", e)
	}
	start := time.Now()
	e := unix.EINTR
	for e == unix.EINTR {
		e = w.Wait(&word, 1, Private, max(5*time.Millisecond-time.Since(start), time.Nanosecond))
	}
	if e != unix.ETIMEDOUT {
		t.Fatalf("Wait: %v, want ETIMEDOUT (a thread wait)", e)
	}
}
