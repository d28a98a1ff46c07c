package ring_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shmmap/shmmap/ring"
	"golang.org/x/sys/unix"
)

// waitParked waits until n calls of this process are parked in the lot.
func waitParked(t *testing.T, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for ring.Parked() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls parked in the lot, want %d", ring.Parked(), n)
		}
		runtime.Gosched()
	}
}

// TestLotHandOff: an in-process request/response in which every wait
// sleeps (no spin) goes through the lot: each side parks, the other's
// write wakes it, nothing is left parked, and the consumers still park in
// the lot afterwards (no waker was taken for one that does not know it).
func TestLotHandOff(t *testing.T) {
	if !ring.LotOn() {
		t.Skip("SHMMAP_RING_LOT=off")
	}
	_, _, reqP, reqC := newRing(t, 256)
	_, _, respP, respC := newRing(t, 256)
	for _, s := range []interface{ SetSpin(int, int) }{reqP, reqC, respP, respC} {
		s.SetSpin(0, 0)
	}
	const rounds = 2000
	ctx, cancel := context.WithTimeout(context.Background(), stressGuard)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		buf := make([]byte, 64)
		for {
			typ, n, err := reqC.ReadContext(ctx, buf)
			if err != nil {
				errc <- err
				return
			}
			if err := respP.WriteContext(ctx, typ, buf[:n]); err != nil {
				errc <- err
				return
			}
		}
	}()
	buf := make([]byte, 64)
	for i := range rounds {
		msg := fmt.Appendf(nil, "request %d", i)
		if err := reqP.WriteContext(ctx, uint32(i), msg); err != nil {
			t.Fatal(err)
		}
		typ, n, err := respC.ReadContext(ctx, buf)
		if err != nil || typ != uint32(i) || string(buf[:n]) != string(msg) {
			t.Fatalf("round %d: type %d %q, %v", i, typ, buf[:n], err)
		}
	}
	reqP.Close()
	if err := <-errc; !errors.Is(err, io.EOF) {
		t.Fatalf("server: %v", err)
	}
	sleeps := reqC.Stats().Sleeps + respC.Stats().Sleeps
	t.Logf("%d round trips, %d sleeps of the consumers", rounds, sleeps)
	if sleeps == 0 {
		t.Error("no consumer slept: the test did not exercise the lot")
	}
	if !reqC.InLot() || !respC.InLot() {
		t.Error("a consumer left the lot, with only lot-aware wakers")
	}
	if n := ring.Parked(); n != 0 {
		t.Errorf("%d calls left parked", n)
	}
}

// TestLotForeignWaker: a consumer parked in the lot whose producer, in the
// same process, works through a second mapping of the ring, so that its
// wake-up is a FUTEX_WAKE on another address (as the C ring's through cgo
// would be). The sweeper wakes the consumer, which reads the message and
// from then on sleeps on the futex, where the producer's wake-ups reach
// it.
func TestLotForeignWaker(t *testing.T) {
	if !ring.LotOn() {
		t.Skip("SHMMAP_RING_LOT=off")
	}
	size := ring.Size(256)
	fd, err := unix.MemfdCreate("ring-lot", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		t.Fatal(err)
	}
	var maps [2][]byte
	for i := range maps {
		if maps[i], err = unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED); err != nil {
			t.Fatal(err)
		}
		defer unix.Munmap(maps[i])
	}
	c := initConsumer(t, maps[0])
	defer c.Close()
	c.SetSpin(0, 0)
	other, err := ring.Attach(maps[1])
	if err != nil {
		t.Fatal(err)
	}
	p, err := other.Producer()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	type result struct {
		msg string
		err error
	}
	results := make(chan result, 3) // a failed test's reader never blocks its wg.Wait
	before := ring.Parked()         // before the reader can park
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 64)
		for range 3 {
			_, n, err := c.ReadContext(ctx, buf)
			results <- result{string(buf[:n]), err}
			if err != nil {
				return
			}
		}
	}()
	waitParked(t, before+1)
	start := time.Now()
	mustWrite(t, p, 1, []byte("first"))
	if got := <-results; got.err != nil || got.msg != "first" {
		t.Fatalf("first read: %q, %v", got.msg, got.err)
	}
	t.Logf("woken by the sweeper after %v", time.Since(start))
	if c.InLot() {
		t.Fatal("the consumer still parks in the lot after a foreign wake-up")
	}
	// Now a futex sleeper: the producer's FUTEX_WAKE reaches it.
	for i, msg := range []string{"second", "third"} {
		for c.Stats().Sleeps < uint64(2+i) {
			runtime.Gosched()
		}
		if ring.Parked() != before {
			t.Fatal("the consumer parked in the lot again")
		}
		mustWrite(t, p, 1, []byte(msg))
		if got := <-results; got.err != nil || got.msg != msg {
			t.Fatalf("read: %q, %v, want %q", got.msg, got.err, msg)
		}
	}
}

// TestLotStressCloseCancel: in-process streams over 64-byte rings that
// hold one message at a time, both sides parking in the lot on every
// message (no spin), with a Close from a third goroutine (of either side,
// or of both at once) or a cancelled context at a random point of each
// run. Checked: the consumer reads messages 0, 1, 2, ... in order, exactly
// the ones whose write returned nil when it reads to io.EOF, and at most
// those otherwise; every call ends with the error its scenario allows;
// Close returns only after the call it interrupted has left the ring (the
// memory is unmapped as soon as both Closes have returned, so a call still
// touching it would crash the test); and nothing is left parked. A park
// that misses its wake-up fails the run: the sweeper is off, so that it
// cannot turn a lost wake-up into a late one, and every call is bounded by
// stressGuard — its context's deadline, or for the half of the runs
// without a cancellation that call with context.Background (the park
// without a select), a watchdog. Both gates.
func TestLotStressCloseCancel(t *testing.T) {
	if !ring.LotOn() {
		t.Skip("SHMMAP_RING_LOT=off")
	}
	defer ring.NoSweep()()
	forBothGates(t, lotStressCloseCancel)
}

func lotStressCloseCancel(t *testing.T) {
	runs, msgs := 3000, 64
	if testing.Short() || raceEnabled {
		runs = 300
	}
	scenarios := []string{"clean", "close producer", "close consumer", "close both",
		"cancel producer", "cancel consumer"}
	size := ring.Size(64)
	var sleeps uint64
	start := time.Now()
	for run := range runs {
		scenario := scenarios[run%len(scenarios)]
		rng := rand.New(rand.NewPCG(uint64(run), 0x10751077))
		at := rng.Uint64N(uint64(msgs) + 1) // the reads after which the closer acts
		mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANONYMOUS)
		if err != nil {
			t.Fatal(err)
		}
		r, err := ring.Init(mem)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := r.Producer()
		c, _ := r.Consumer()
		quiet(p)
		quiet(c)
		guard, cancelGuard := context.WithTimeout(context.Background(), stressGuard)
		pctx, cancelP := context.WithCancel(guard)
		cctx, cancelC := context.WithCancel(guard)
		if !strings.HasPrefix(scenario, "cancel") && run/len(scenarios)%2 == 1 {
			// Calls with no Done channel park without a select: only a
			// wake-up or Close ends them, and the watchdog a hang.
			pctx, cctx = context.Background(), context.Background()
		}
		watchdog := time.AfterFunc(stressGuard, func() {
			panic(fmt.Sprintf("run %d (%s at %d) hung: a lost wake-up in the lot? producer %+v, consumer %+v",
				run, scenario, at, p.Stats(), c.Stats()))
		})

		var reads atomic.Uint64
		var finished atomic.Bool
		var wrote uint64
		var perr, cerr error
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { // producer
			defer wg.Done()
			msg := make([]byte, 40)
			for i := range uint64(msgs) {
				binary.LittleEndian.PutUint64(msg, i)
				if perr = p.WriteContext(pctx, 1, msg); perr != nil {
					break
				}
				wrote++
			}
			p.Close() // ErrClosed if the closer came first: touches no memory then
		}()
		go func() { // consumer
			defer wg.Done()
			defer finished.Store(true)
			buf := make([]byte, 64)
			for {
				var n int
				if _, n, cerr = c.ReadContext(cctx, buf); cerr != nil {
					break
				}
				if got := binary.LittleEndian.Uint64(buf); n != 40 || got != reads.Load() {
					cerr = fmt.Errorf("read message %d (%d bytes), want message %d", got, n, reads.Load())
					break
				}
				reads.Add(1)
			}
			if scenario != "close consumer" && scenario != "close both" {
				c.Close()
			}
		}()
		// The closer: acts once the consumer has read at messages.
		for reads.Load() < at && !finished.Load() {
			runtime.Gosched()
		}
		closed := make(chan struct{})
		switch scenario {
		case "close producer":
			p.Close()
			close(closed)
		case "close consumer":
			c.Close()
			p.Close()
			close(closed)
		case "close both":
			var cw sync.WaitGroup
			cw.Add(2)
			go func() { defer cw.Done(); c.Close() }()
			go func() { defer cw.Done(); p.Close() }()
			cw.Wait()
			close(closed)
		case "cancel producer":
			cancelP()
		case "cancel consumer":
			cancelC()
		}
		if scenario == "close consumer" || scenario == "close both" {
			// Both Closes have returned: no call may touch the memory now.
			<-closed
			if err := unix.Munmap(mem); err != nil {
				t.Fatal(err)
			}
			mem = nil
		}
		wg.Wait()
		watchdog.Stop()
		cancelP()
		cancelC()
		cancelGuard()
		if mem != nil {
			if err := unix.Munmap(mem); err != nil {
				t.Fatal(err)
			}
		}
		fail := func(format string, args ...any) {
			t.Fatalf("run %d (%s at %d): "+format+"; producer wrote %d (%v), consumer read %d (%v); producer %+v, consumer %+v",
				append(append([]any{run, scenario, at}, args...), wrote, perr, reads.Load(), cerr, p.Stats(), c.Stats())...)
		}
		if errors.Is(perr, context.DeadlineExceeded) || errors.Is(cerr, context.DeadlineExceeded) {
			fail("a call hung (a lost wake-up in the lot?)")
		}
		var okP, okC bool
		switch scenario {
		case "clean":
			okP, okC = perr == nil, cerr == io.EOF
		case "close producer", "cancel producer":
			wantP := ring.ErrClosed
			if scenario == "cancel producer" {
				wantP = context.Canceled
			}
			okP, okC = perr == nil || errors.Is(perr, wantP), cerr == io.EOF
		case "close consumer", "close both", "cancel consumer":
			wantC := ring.ErrClosed
			if scenario == "cancel consumer" {
				wantC = context.Canceled
			}
			okP = perr == nil || errors.Is(perr, ring.ErrClosed)
			okC = errors.Is(cerr, wantC) || cerr == io.EOF // the producer was done first
		}
		if !okP || !okC {
			fail("unexpected errors")
		}
		if n := reads.Load(); n > wrote || cerr == io.EOF && n != wrote {
			fail("the consumer read %d messages of the %d written", n, wrote)
		}
		if n := ring.Parked(); n != 0 {
			fail("%d calls left parked", n)
		}
		sleeps += p.Stats().Sleeps + c.Stats().Sleeps
	}
	t.Logf("%d runs in %v, %d parks", runs, time.Since(start).Round(time.Millisecond), sleeps)
	if sleeps < uint64(runs*msgs/2) {
		t.Errorf("only %d parks in %d runs of %d messages: the runs did not exercise the lot", sleeps, runs, msgs)
	}
}

// TestLotSweeperBacksOff: with a call parked for long and nothing amiss,
// the sweeper backs off from a sweep every 10 ms to one every 160 ms: over
// a second, about 9 sweeps rather than 100. (A loaded machine only makes
// fewer.)
func TestLotSweeperBacksOff(t *testing.T) {
	if !ring.LotOn() {
		t.Skip("SHMMAP_RING_LOT=off")
	}
	_, _, p, c := newRing(t, 256)
	c.SetSpin(0, 0)
	before := ring.Parked()
	done := make(chan error, 1)
	go func() {
		_, _, err := c.Read(make([]byte, 64))
		done <- err
	}()
	waitParked(t, before+1)
	s0 := ring.Sweeps()
	time.Sleep(time.Second) // let time pass: the count of sweeps is the assertion
	n := ring.Sweeps() - s0
	t.Logf("%d sweeps in 1 s with one call parked", n)
	if n > 20 {
		t.Errorf("%d sweeps in 1 s with one idle parked call, want the back-off's ~9", n)
	}
	mustWrite(t, p, 1, []byte("wake"))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
