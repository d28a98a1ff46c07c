package ring_test

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/shmmap/shmmap/internal/futexwait"
	"github.com/shmmap/shmmap/internal/futexwait/futexwaittest"
	"github.com/shmmap/shmmap/ring"
)

// TestManyBlockedReaders: 10,000 goroutines, each blocked in Consumer.Read
// on its own ring in one shared memfd mapping, hold at most GOMAXPROCS+8
// OS threads (issue 14); then each ring gets one message, and each reader
// returns it.
func TestManyBlockedReaders(t *testing.T) {
	n := futexwaittest.Many(t, "^TestManyBlockedReaders$", raceEnabled)
	if n == 0 {
		return
	}
	// Straight to sleep (SetSpin(0, 0)): spinning 10,000 readers proves nothing.
	mem, consumers := sharedRings(t, n)

	// The producers attach once the readers are counted: readers of rings
	// without a producer yet, which look at their producer's pid word once
	// a second (a producer's attach wakes them; TestPeerWatchIdleReaders
	// has readers whose producer is a live process).
	before := futexwait.InFlight()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i, c := range consumers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 64)
			typ, m, err := c.Read(buf)
			switch {
			case err != nil:
				errs <- fmt.Errorf("reader %d: %w", i, err)
			case typ != uint32(i) || string(buf[:m]) != fmt.Sprint("message ", i):
				errs <- fmt.Errorf("reader %d: type %d %q", i, typ, buf[:m])
			}
		}()
	}
	// Every reader is asleep once all but the direct ones are armed and
	// every consumer has gone to sleep.
	deadline := time.Now().Add(30 * time.Second)
	for {
		asleep := 0
		for _, c := range consumers {
			if c.Stats().Sleeps > 0 {
				asleep++
			}
		}
		armed := futexwait.InFlight() - before
		if asleep == n && armed >= int64(n-futexwait.DefaultDirect) {
			// With futex_waitv add a thread per 127 waits.
			limit := runtime.GOMAXPROCS(0) + 8 + futexwait.ThreadsFor(n)
			got := futexwaittest.OSThreads(t)
			t.Logf("%d readers blocked: %d OS threads (limit GOMAXPROCS+8+%d = %d)", n, got, futexwait.ThreadsFor(n), limit)
			if got > limit {
				t.Errorf("%d OS threads with %d blocked readers, want at most %d", got, n, limit)
			}
			break
		}
		if time.Now().After(deadline) {
			// Not Fatal: the readers must be woken before the memory goes.
			t.Errorf("after 30s, %d of %d readers asleep, %d waits armed", asleep, n, armed)
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	size := ring.Size(64) // sharedRings' rings
	for i := range consumers {
		var p *ring.Producer
		r, err := ring.Attach(mem[i*size : (i+1)*size])
		if err == nil {
			p, err = r.Producer()
		}
		if err == nil {
			err = p.TryWrite(uint32(i), []byte(fmt.Sprint("message ", i)))
			p.Close()
		}
		if err != nil {
			t.Errorf("producer %d: %v", i, err)
			consumers[i].Close() // wakes the reader (ErrClosed)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, c := range consumers {
		c.Close()
	}
	if d := futexwait.InFlight() - before; d != 0 {
		t.Errorf("%d waits left armed", d)
	}
}

// lotOff turns the lot off in a child (see lot.go): the in-process tests'
// sleeps are then futex sleeps, as with a peer in another process.
const lotOff = "SHMMAP_RING_LOT=off"

// TestMechanisms runs the blocking tests in a child process with each
// futex wait mechanism forced, and the lot off so that the in-process
// tests' sleeps are futex sleeps: the thread per waiter (the fallback),
// and the multiplexer with no direct waits, so that every sleep goes
// through io_uring (with the lost-wake-up stress, except under the race
// detector), and the futex_waitv workers with no direct waits.
func TestMechanisms(t *testing.T) {
	if futexwaittest.IsChild() {
		t.Skip("a child process")
	}
	quick := "^(TestPeerDeadInProcess|TestPeerWatchKilled|TestPeerWatchFallback|TestPeerWatchAttach|TestCloseWakes|TestCancelWakes|TestAttachContextWaits)$"
	// The streams and the lost-wake-up stress with every sleep
	// multiplexed take about 6 s on amd64; under the race detector and as
	// a 32-bit program (where every system call and the scheduler are
	// slower) they take minutes, and only the quick tests run.
	heavy := !raceEnabled && unsafe.Sizeof(uintptr(0)) == 8
	t.Run("thread", func(t *testing.T) {
		env := []string{futexwait.EnvMechanism + "=" + futexwait.Thread, lotOff}
		futexwaittest.RunChild(t, quick, env...)
		futexwaittest.RunChild(t, "^TestManyBlockedReaders$", env...) // skips: not multiplexed
	})
	t.Run("iouring-only", func(t *testing.T) {
		env := []string{futexwait.EnvMechanism + "=" + futexwait.IOURing, futexwait.EnvDirect + "=0", lotOff}
		tests := quick
		if heavy {
			tests = strings.Replace(quick, "^(", "^(TestLostWakeupStress|TestStreamGoroutines|", 1)
		}
		futexwaittest.RunChild(t, tests, env...)
		futexwaittest.RunChild(t, "^TestManyBlockedReaders$", env...)
	})
	t.Run("waitv-only", func(t *testing.T) {
		// futex_waitv workers (the fallback where io_uring lacks the
		// futex wait). Its stress run (15 s here: each sleep restarts a
		// worker's call) is left to SHMMAP_FUTEXWAIT=waitv go test.
		env := []string{futexwait.EnvMechanism + "=" + futexwait.Waitv, futexwait.EnvDirect + "=0", lotOff}
		futexwaittest.RunChild(t, quick, env...)
		futexwaittest.RunChild(t, "^TestManyBlockedReaders$", env...)
	})
}
