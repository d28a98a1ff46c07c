package bench

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shmmap/shmmap/internal/futexwait"
	"github.com/shmmap/shmmap/ring"
	"golang.org/x/sys/unix"
)

// BenchmarkWakeLatency: the wake-up of a blocked Go reader — a 64-byte
// message written to a ring whose consumer sleeps on its futex, until that
// consumer has returned it — while 1, 100 or 10,000 other readers are
// idle, each blocked in Consumer.Read on a ring of its own (all rings in one
// memfd mapping). In one process: two goroutines ping-pong over two rings
// with spinning off, so every message wakes a sleeper; ns/op is half a
// round trip, one wake-up. The idle readers have no producer yet (a
// producer's pid would add a liveness check per reader every 50 ms); each
// still wakes every DefaultPeerCheck to look. With the multiplexer
// (internal/futexwait) the idle readers hold no threads and the hot pair
// waits directly in its threads; with the thread per waiter (forced with
// SHMMAP_FUTEXWAIT=thread) idle=10000 is skipped: it would need 10,000
// threads.
func BenchmarkWakeLatency(b *testing.B) {
	for _, idle := range []int{1, 100, 10000} {
		b.Run(fmt.Sprintf("idle=%d", idle), func(b *testing.B) {
			if idle > 1000 && !futexwait.Multiplexed() {
				_, why := futexwait.Mechanism()
				b.Skipf("waits are not multiplexed (%s): %d idle readers would hold %d threads", why, idle, idle)
			}
			wakeLatency(b, idle)
		})
	}
}

func wakeLatency(b *testing.B, idle int) {
	size := ring.Size(256) // room for a 64-byte message
	n := idle + 2
	fd, err := unix.MemfdCreate("bench-wake", unix.MFD_CLOEXEC)
	mustf(b, err, "memfd")
	defer unix.Close(fd)
	mustf(b, unix.Ftruncate(fd, int64(n*size)), "ftruncate")
	mem, err := unix.Mmap(fd, 0, n*size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	mustf(b, err, "mmap")
	defer unix.Munmap(mem)
	rings := make([]*ring.Ring, n)
	for i := range rings {
		rings[i], err = ring.Init(mem[i*size : (i+1)*size])
		mustf(b, err, "ring.Init")
	}

	// The idle readers: blocked until their producer closes.
	before := futexwait.InFlight()
	var idleDone sync.WaitGroup
	idlers := make([]*ring.Consumer, idle)
	for i := range idlers {
		c, err := rings[2+i].Consumer()
		mustf(b, err, "Consumer")
		c.SetSpin(0, 0)
		idlers[i] = c
		idleDone.Add(1)
		go func() {
			defer idleDone.Done()
			buf := make([]byte, 64)
			c.Read(buf)
		}()
	}
	defer func() {
		for i := range idlers {
			p, err := rings[2+i].Producer()
			mustf(b, err, "Producer")
			p.Close()
		}
		idleDone.Wait()
		for _, c := range idlers {
			c.Close()
		}
	}()
	deadline := time.Now().Add(time.Minute)
	for {
		asleep := 0
		for _, c := range idlers {
			if c.Stats().Sleeps > 0 {
				asleep++
			}
		}
		armed := futexwait.InFlight() - before
		if asleep == idle && (!futexwait.Multiplexed() || armed >= int64(idle-futexwait.DefaultDirect)) {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d idle readers asleep after a minute (%d armed)", asleep, idle, armed)
		}
		time.Sleep(time.Millisecond)
	}
	// Past DirectFor, so direct waits among them have moved on.
	time.Sleep(5 * futexwait.DirectFor)

	// The hot pair: ping writes on ring 0 and reads ring 1; pong echoes.
	pingP, err := rings[0].Producer()
	mustf(b, err, "Producer")
	pongC, err := rings[0].Consumer()
	mustf(b, err, "Consumer")
	pongP, err := rings[1].Producer()
	mustf(b, err, "Producer")
	pingC, err := rings[1].Consumer()
	mustf(b, err, "Consumer")
	for _, c := range []*ring.Consumer{pingC, pongC} {
		c.SetSpin(0, 0)
	}
	msg := make([]byte, 64)
	pongErr := make(chan error, 1)
	go func() {
		buf := make([]byte, 256)
		for {
			typ, n, err := pongC.Read(buf)
			if err != nil {
				pongErr <- err
				return
			}
			if err := pongP.Write(typ, buf[:n]); err != nil {
				pongErr <- err
				return
			}
		}
	}()
	defer func() {
		// Stop pong before the memory goes, also after a failure.
		pingP.Close()
		<-pongErr
		for _, x := range []interface{ Close() error }{pongP, pingC, pongC} {
			x.Close()
		}
	}()
	buf := make([]byte, 64)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if err := pingP.Write(1, msg); err != nil {
			b.Fatal(err)
		}
		if _, _, err := pingC.Read(buf); err != nil {
			b.Fatal(err)
		}
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(el.Nanoseconds())/float64(2*b.N), "ns/op")
	b.ReportMetric(float64(pingC.Stats().Sleeps+pongC.Stats().Sleeps)/float64(2*b.N), "sleeps/wake")
}
