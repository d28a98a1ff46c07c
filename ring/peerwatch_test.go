package ring_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/shmmap/shmmap/internal/futexwait"
	"github.com/shmmap/shmmap/internal/futexwait/futexwaittest"
	"github.com/shmmap/shmmap/ring"
	"golang.org/x/sys/unix"
)

// peerProcess starts a child that lives until killed: the peer whose pid
// the tests write into a ring's pid word. The cleanup kills and reaps it.
func peerProcess(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "3600")
	if err := cmd.Start(); err != nil {
		t.Skipf("no child process to watch: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

// requireWatch skips a test of the peer watches where there are none:
// forced off (SHMMAP_RING_PEERWATCH=off), or no pidfd_open (before Linux
// 5.3, or a seccomp filter).
func requireWatch(t *testing.T) {
	t.Helper()
	if !ring.PeerWatchOn() {
		t.Skip("the peer watches are off (SHMMAP_RING_PEERWATCH=off, or found impossible here)")
	}
	fd, err := unix.PidfdOpen(unix.Getpid(), 0)
	if err != nil {
		t.Skipf("no peer watches without pidfd_open: %v", err)
	}
	unix.Close(fd)
}

// killPeer kills the child; reaped waits for it, otherwise it stays a
// zombie until the cleanup reaps it.
func killPeer(t *testing.T, cmd *exec.Cmd, reaped bool) {
	t.Helper()
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if reaped {
		cmd.Wait()
		return
	}
	var info unix.Siginfo
	if err := unix.Waitid(unix.P_PID, cmd.Process.Pid, &info, unix.WEXITED|unix.WNOWAIT, nil); err != nil {
		t.Fatal(err)
	}
}

// sharedRings formats n rings of capacity 64 in one MAP_SHARED memfd
// mapping (unmapped by the cleanup) and takes the consumer role of each,
// with spinning off.
func sharedRings(t *testing.T, n int) ([]byte, []*ring.Consumer) {
	t.Helper()
	size := ring.Size(64)
	mem := futexwaittest.SharedMem(t, n, size)
	cs := make([]*ring.Consumer, n)
	for i := range cs {
		r, err := ring.Init(mem[i*size : (i+1)*size])
		if err != nil {
			t.Fatal(err)
		}
		if cs[i], err = r.Consumer(); err != nil {
			t.Fatal(err)
		}
		cs[i].SetSpin(0, 0)
	}
	return mem, cs
}

// setProducerPID writes pid into the producer pid word of every ring, as
// a C producer's attach (which wakes nobody) would.
func setProducerPID(mem []byte, n, pid int) {
	size := ring.Size(64)
	for i := range n {
		ne.PutUint32(mem[i*size+offProducerPID:], uint32(pid))
	}
}

// everyReader reports whether ok holds for the Stats of every consumer.
func everyReader(cs []*ring.Consumer, ok func(ring.Stats) bool) bool {
	for _, c := range cs {
		if !ok(c.Stats()) {
			return false
		}
	}
	return true
}

// blockReaders starts a blocked Read on each consumer; their errors come
// on the channel returned, and the cleanup closes the consumers and waits
// for the readers.
func blockReaders(t *testing.T, cs []*ring.Consumer) <-chan error {
	errs := make(chan error, len(cs))
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := c.Read(make([]byte, 64))
			errs <- err
		}()
	}
	t.Cleanup(func() {
		for _, c := range cs {
			c.Close() // wakes a reader still blocked (ErrClosed)
		}
		wg.Wait()
	})
	return errs
}

// until polls cond (yielding, not sleeping) until it holds, failing the
// test after 30 seconds.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 30s: not %s", what)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

func sumStats(cs []*ring.Consumer) (s ring.Stats) {
	for _, c := range cs {
		st := c.Stats()
		s.Sleeps += st.Sleeps
		s.Timeouts += st.Timeouts
	}
	return s
}

// collect receives n results and checks that each wraps ErrPeerDead.
func collect(t *testing.T, errs <-chan error, n int) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	bad := 0
	for range n {
		select {
		case err := <-errs:
			if !errors.Is(err, ring.ErrPeerDead) {
				if bad++; bad <= 3 {
					t.Errorf("blocked reader returned %v, want ErrPeerDead", err)
				}
			}
		case <-timeout:
			t.Fatalf("a blocked reader did not notice its peer's death within 30s")
		}
	}
}

// TestPeerWatchIdleReaders: 10,000 readers blocked on rings whose producer
// is one live child process (2,000 under -short or -race) cost no wake-up
// while it lives — no peer-check timeouts and (almost) no sleeps over a
// second, all watched through one pidfd, and the watch holds no thread —
// and return ErrPeerDead once it is killed (left a zombie), without any
// timeout: the death was an event.
func TestPeerWatchIdleReaders(t *testing.T) {
	if !futexwaittest.IsChild() {
		// Count threads in a fresh process, as TestManyBlockedReaders.
		futexwaittest.RunChild(t, "^TestPeerWatchIdleReaders$")
		return
	}
	requireWatch(t)
	n := 10000
	if testing.Short() || raceEnabled {
		n = 2000
	}
	if !futexwait.Multiplexed() {
		n = 100 // each blocked reader holds a thread
	}
	peer := peerProcess(t)
	mem, cs := sharedRings(t, n)
	setProducerPID(mem, n, peer.Process.Pid)
	errs := blockReaders(t, cs)
	until(t, "every reader asleep, watching one peer", func() bool {
		return everyReader(cs, func(st ring.Stats) bool { return st.Sleeps > 0 }) && ring.PeerWatches() == 1
	})
	if futexwait.Multiplexed() {
		limit := runtime.GOMAXPROCS(0) + 8 + futexwait.ThreadsFor(n)
		if got := futexwaittest.OSThreads(t); got > limit {
			t.Errorf("%d OS threads with %d readers watching their peer, want at most %d", got, n, limit)
		}
	}
	before := sumStats(cs)
	time.Sleep(time.Second) // the window the wake-ups are counted over
	after := sumStats(cs)
	t.Logf("%d idle readers over 1s: %d wake-ups, %d timeouts (each reader with a 50 ms peer check: %d)",
		n, after.Sleeps-before.Sleeps, after.Timeouts, 20*n)
	if after.Timeouts != 0 {
		t.Errorf("%d peer-check timeouts while the peer lived, want none", after.Timeouts)
	}
	if d := after.Sleeps - before.Sleeps; d > uint64(n/100) {
		t.Errorf("%d wake-ups of %d idle readers in a second, want (almost) none", d, n)
	}
	killPeer(t, peer, false)
	collect(t, errs, n)
	if s := sumStats(cs); s.Timeouts != 0 {
		t.Errorf("%d timeouts: the death was noticed by peer checks, not by the watch", s.Timeouts)
	}
	until(t, "the watch closed", func() bool { return ring.PeerWatches() == 0 })
}

// TestPeerWatchKilled: a blocked reader and a blocked writer whose peer is
// a child process return ErrPeerDead when it is killed, reaped or left a
// zombie, with no peer-check timeout.
func TestPeerWatchKilled(t *testing.T) {
	requireWatch(t)
	for _, kind := range []string{"reaped", "zombie"} {
		t.Run(kind, func(t *testing.T) {
			peer := peerProcess(t)
			pid := uint32(peer.Process.Pid)
			mem, _, p, _ := newRing(t, 256)
			for p.TryWrite(1, []byte("queued")) == nil {
			}
			ne.PutUint32(mem[offConsumerPID:], pid)
			werr := make(chan error, 1)
			go func() { werr <- p.Write(2, []byte("no room")) }()
			asleep(t, p.Stats)

			mem2, _, p2, c2 := newRing(t, 256)
			p2.Close()
			ne.PutUint32(mem2[offProducerPID:], pid)
			rerr := make(chan error, 1)
			go func() { _, _, err := c2.Read(make([]byte, 64)); rerr <- err }()
			asleep(t, c2.Stats)
			killPeer(t, peer, kind == "reaped")
			for name, ch := range map[string]chan error{"writer": werr, "reader": rerr} {
				if err := woken(t, ch); !errors.Is(err, ring.ErrPeerDead) {
					t.Errorf("%s: %v, want ErrPeerDead", name, err)
				}
			}
			if n := p.Stats().Timeouts + c2.Stats().Timeouts; n != 0 {
				t.Errorf("%d peer-check timeouts: the death was not an event", n)
			}
		})
	}
}

// TestPeerWatchFallback: with the watches forced off (as where pidfds
// cannot be polled), a blocked reader checks its live peer periodically
// (timeouts) and still returns ErrPeerDead once the peer is killed.
func TestPeerWatchFallback(t *testing.T) {
	defer ring.ForcePeerPolling(true)()
	peer := peerProcess(t)
	const n = 10
	mem, cs := sharedRings(t, n)
	setProducerPID(mem, n, peer.Process.Pid)
	errs := blockReaders(t, cs)
	until(t, "every reader past a peer check", func() bool {
		return everyReader(cs, func(st ring.Stats) bool { return st.Timeouts > 0 })
	})
	if w := ring.PeerWatches(); w != 0 {
		t.Errorf("%d peers watched with the watches off", w)
	}
	killPeer(t, peer, false)
	collect(t, errs, n)
}

// TestPeerWatchAttach: a reader blocked before any producer attached is
// woken by a Go producer's attach (with the periodic look pushed out of
// reach); and after a producer that wakes nobody (as a C producer) writes
// its pid, the reader finds it at its next look, watches it, and returns
// ErrPeerDead when it dies.
func TestPeerWatchAttach(t *testing.T) {
	requireWatch(t)
	t.Run("go", func(t *testing.T) {
		defer ring.SetNoPeerRecheck(time.Hour)()
		mem := make([]byte, ring.Size(256))
		c := initConsumer(t, mem)
		defer c.Close()
		c.SetSpin(0, 0)
		errc := make(chan error, 1)
		go func() { _, _, err := c.Read(nil); errc <- err }()
		asleep(t, c.Stats)
		r, err := ring.Attach(mem)
		if err != nil {
			t.Fatal(err)
		}
		p, err := r.Producer()
		if err != nil {
			t.Fatal(err)
		}
		until(t, "the reader woken by the attach", func() bool { return c.Stats().Sleeps >= 2 })
		p.Close()
		if err := woken(t, errc); err != io.EOF {
			t.Fatalf("reader: %v, want io.EOF", err)
		}
		if n := c.Stats().Timeouts; n != 0 {
			t.Errorf("%d timeouts", n)
		}
	})
	t.Run("silent", func(t *testing.T) {
		defer ring.SetNoPeerRecheck(20 * time.Millisecond)()
		peer := peerProcess(t)
		mem, cs := sharedRings(t, 1)
		errs := blockReaders(t, cs)
		asleep(t, cs[0].Stats)
		setProducerPID(mem, 1, peer.Process.Pid)
		until(t, "the peer watched", func() bool { return ring.PeerWatches() == 1 })
		killPeer(t, peer, true)
		collect(t, errs, 1)
	})
}

// ExampleConsumer_SetPeerCheck shows the three settings.
func ExampleConsumer_SetPeerCheck() {
	mem := make([]byte, ring.Size(4096))
	r, _ := ring.Init(mem)
	c, _ := r.Consumer()
	defer c.Close()
	c.SetPeerCheck(0)                      // default: the producer's death is an event
	c.SetPeerCheck(200 * time.Millisecond) // also look at least every 200 ms
	c.SetPeerCheck(-1)                     // never: the producer is in another PID namespace
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, _, err := c.ReadContext(ctx, make([]byte, 64))
	fmt.Println(err)
	// Output: context deadline exceeded
}

// TestPeerWatchExpires: once the last call watching a live peer returns,
// the watch closes its pidfd (after a short linger), and a later call
// watches the peer anew.
func TestPeerWatchExpires(t *testing.T) {
	requireWatch(t)
	peer := peerProcess(t)
	mem, cs := sharedRings(t, 2)
	setProducerPID(mem, 2, peer.Process.Pid)
	for round := range 2 {
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { _, _, err := cs[round].ReadContext(ctx, nil); errc <- err }()
		t.Cleanup(func() {
			// Before the memory goes, if the test failed with the
			// reader still blocked.
			cancel()
			<-errc
		})
		until(t, "the peer watched", func() bool { return ring.PeerWatches() == 1 })
		cancel()
		if err := woken(t, errc); !errors.Is(err, context.Canceled) {
			t.Fatalf("round %d: %v, want context.Canceled", round, err)
		}
		errc <- nil // for the cleanup
		until(t, "the watch closed", func() bool { return ring.PeerWatches() == 0 })
	}
}
