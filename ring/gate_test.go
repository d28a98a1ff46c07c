package ring_test

import (
	"errors"
	"runtime"
	"testing"

	"github.com/shmmap/shmmap/ring"
)

// TestGateBothProtocols runs the tests of Close against calls in progress
// with the gate's compare-and-swap protocol too, where this build and
// kernel choose the asymmetric one.
func TestGateBothProtocols(t *testing.T) {
	if !ring.AsymmetricGate() {
		t.Skip("this build uses the compare-and-swap gate only (not x86, -race, or no membarrier): the other tests cover it")
	}
	defer ring.ForceCASGate(true)()
	for name, f := range map[string]func(*testing.T){
		"CloseWakes": TestCloseWakes, "CloseInsideCallback": TestCloseInsideCallback,
		"CommitAfterClose": TestCommitAfterClose, "ConcurrentCalls": TestConcurrentCalls,
		"CloseRacesCalls": TestCloseRacesCalls,
	} {
		t.Run(name, f)
	}
}

// TestCloseRacesCalls: Close from another goroutine while the owner
// writes (or reads) as fast as it can. Once Close has returned, nothing
// more is published (or freed) — the position in memory stays where it
// was — the role is free, and the owner's next call fails with ErrClosed.
// Thousands of rounds, Close landing at a different point of a call each
// time.
func TestCloseRacesCalls(t *testing.T) {
	rounds := 2000
	if testing.Short() || raceEnabled {
		rounds = 300
	}
	for _, role := range []string{"producer", "consumer"} {
		t.Run(role, func(t *testing.T) {
			msg := make([]byte, 40)
			buf := make([]byte, 40)
			for round := range rounds {
				mem, r, p, c := newRing(t, 1<<16)
				// The owner's calls; the other side, in the same goroutine,
				// keeps the ring from filling (emptying).
				off := offTail
				call := func() error {
					err := p.TryWrite(1, msg)
					if err == ring.ErrFull {
						for c.TryReadFunc(func(uint32, []byte) error { return nil }) == nil {
						}
						return nil
					}
					return err
				}
				closer := p.Close
				if role == "consumer" {
					off = offHead
					call = func() error {
						_, _, err := c.TryRead(buf)
						if err == ring.ErrEmpty {
							for p.TryWrite(1, msg) == nil {
							}
							return nil
						}
						return err
					}
					closer = c.Close
				}
				started := make(chan struct{})
				done := make(chan error, 1)
				go func() {
					close(started)
					for {
						if err := call(); err != nil {
							done <- err
							return
						}
					}
				}()
				<-started
				for range round % 50 {
					runtime.Gosched()
				}
				if err := closer(); err != nil {
					t.Fatalf("round %d: Close: %v", round, err)
				}
				pos := ne.Uint64(mem[off:])
				err := <-done
				if !errors.Is(err, ring.ErrClosed) {
					t.Fatalf("round %d: the call after Close: %v", round, err)
				}
				if got := ne.Uint64(mem[off:]); got != pos {
					t.Fatalf("round %d: the %s position moved from %d to %d after Close returned", round, role, pos, got)
				}
				var err2 error
				if role == "producer" {
					_, err2 = r.Producer()
				} else {
					_, err2 = r.Consumer()
				}
				if err2 != nil {
					t.Fatalf("round %d: the %s role after Close: %v", round, role, err2)
				}
			}
		})
	}
}
