package ring_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shmmap/shmmap/ring"
	"github.com/shmmap/shmmap/ring/internal/ringmsg"
)

// stressGuard bounds every blocking call of a stress run. The peer check is
// set to an hour, so the only thing that ends a sleep is the other side's
// wake: a lost wake-up would sleep until this deadline, and the run fails
// with context.DeadlineExceeded instead of hanging.
const stressGuard = 20 * time.Second

// TestLostWakeupStress: thousands of short runs over 64-byte rings, both
// sides sleeping at once (no spinning), so nearly every message goes
// through a full or empty ring and a futex sleep and wake.
func TestLostWakeupStress(t *testing.T) {
	runs, msgs := 2000, uint64(100)
	if raceEnabled {
		runs = 1000
	}
	var sleeps, wakes, timeouts uint64
	start := time.Now()
	for run := range runs {
		mem := make([]byte, ring.Size(64))
		r, err := ring.Init(mem)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := r.Producer()
		c, _ := r.Consumer()
		for _, s := range []interface {
			SetSpin(int, int)
			SetPeerCheck(time.Duration)
		}{p, c} {
			s.SetPeerCheck(time.Hour)
			s.SetSpin(run%3, 0) // 0, 1 or 2 re-checks before sleeping: varied timing
		}
		ctx, cancel := context.WithTimeout(context.Background(), stressGuard)
		got, err := stream(ctx, p, c, uint64(run), msgs, 40)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("run %d hung (a lost wake-up?) after %d messages: %v; producer %+v, consumer %+v",
				run, got.Count, err, p.Stats(), c.Stats())
		}
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if want := ringmsg.Expect(uint64(run), msgs, 40); got != want {
			t.Fatalf("run %d: got %v, want %v", run, got, want)
		}
		for _, st := range []ring.Stats{p.Stats(), c.Stats()} {
			sleeps += st.Sleeps
			wakes += st.Wakes
			timeouts += st.Timeouts
		}
	}
	t.Logf("%d runs of %d messages in %v: %d sleeps, %d wakes, %d timeouts, 0 hangs",
		runs, msgs, time.Since(start).Round(time.Millisecond), sleeps, wakes, timeouts)
	if timeouts != 0 {
		t.Errorf("%d sleeps ended by timeout with an hour's peer check: wake-ups were lost", timeouts)
	}
	if sleeps < uint64(runs) {
		t.Errorf("only %d sleeps: the runs did not exercise the futex path", sleeps)
	}
}
