package ring_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
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
	r, err := ring.Init(maps[0])
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.Consumer()
	if err != nil {
		t.Fatal(err)
	}
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
	results := make(chan result)
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
	before := ring.Parked()
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
