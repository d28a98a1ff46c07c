package ring_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/shmmap/shmmap/ring"
)

// TestSpinYieldsToPeerGoroutine: with one P, a request/response between
// two goroutines of this process can only progress if the waiting side
// gives the P up while it spins. The spin then lets the peer run (it is in
// this process), so no wait ever reaches the futex: zero sleeps on all four
// ends. A spin that held the P (PAUSE alone) would exhaust its turns and
// sleep on every wait.
func TestSpinYieldsToPeerGoroutine(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	reqRing, _ := ring.Init(make([]byte, ring.Size(4096)))
	respRing, _ := ring.Init(make([]byte, ring.Size(4096)))
	reqP, _ := reqRing.Producer()
	reqC, _ := reqRing.Consumer()
	respP, _ := respRing.Producer()
	respC, _ := respRing.Consumer()
	ends := []interface {
		SetSpin(int, int)
		SetPeerCheck(time.Duration)
		Stats() ring.Stats
	}{reqP, reqC, respP, respC}
	for _, e := range ends {
		e.SetSpin(1000, 0) // turns only: after them, a sleep
		e.SetPeerCheck(time.Hour)
	}
	const rounds = 200
	served := make(chan error, 1)
	go func() {
		buf := make([]byte, 64)
		for range rounds {
			typ, n, err := reqC.ReadContext(ctx, buf)
			if err == nil {
				err = respP.WriteContext(ctx, typ, buf[:n])
			}
			if err != nil {
				served <- err
				return
			}
		}
		served <- nil
	}()
	msg, buf := []byte("ping"), make([]byte, 64)
	for i := range rounds {
		if err := reqP.WriteContext(ctx, uint32(i), msg); err != nil {
			t.Fatal(err)
		}
		typ, n, err := respC.ReadContext(ctx, buf)
		if err != nil {
			t.Fatal(err)
		}
		if typ != uint32(i) || string(buf[:n]) != "ping" {
			t.Fatalf("round %d: response type %d, %q", i, typ, buf[:n])
		}
	}
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	for i, e := range ends {
		if st := e.Stats(); st.Sleeps != 0 {
			t.Errorf("end %d slept %d times in %d round trips on one P: the spin kept the P from the peer goroutine", i, st.Sleeps, rounds)
		}
	}
}
