package pthread_test

// Cross-process tests of Cond against glibc: C processes
// (testdata/condpeer.c) and this one share a System V segment holding a
// glibc process-shared mutex and two condition variables, each test in
// its own IPC namespace. Steps are ordered by the peer's answers and by
// waiters seen asleep in futex(2) under /proc, never by sleeping.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shmmap/shmmap/pthread"
	"golang.org/x/sys/unix"
)

// condRig is a segment with glibc's mutex and cond 0 and 1 initialised by
// a C peer (process-shared; clock as given), and that peer.
func condRig(t *testing.T, clock int) ([]byte, *condPeer) {
	t.Helper()
	requireCondPeer(t)
	mem := condSegment(t)
	p := startCondPeer(t)
	p.do(t, "mutexinit")
	p.do(t, "condinit 0 %d", clock)
	p.do(t, "condinit 1 %d", clock)
	return mem, p
}

// TestCondInitBytes: InitCond writes what pthread_cond_init with a
// process-shared attribute writes, over memory that held garbage, for
// each clock.
func TestCondInitBytes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		clock int32
		arg   int
	}{{"realtime", unix.CLOCK_REALTIME, 0}, {"monotonic", unix.CLOCK_MONOTONIC, 1}} {
		t.Run(tc.name, func(t *testing.T) {
			requireCondPeer(t)
			mem := condSegment(t)
			copy(mem, bytes.Repeat([]byte{0xa5}, 256))
			p := startCondPeer(t)
			p.do(t, "condinit 0 %d", tc.arg)
			c, err := pthread.InitCondClock(condMem(mem, 1), tc.clock)
			if err != nil {
				t.Fatal(err)
			}
			if c.Clock() != tc.clock {
				t.Errorf("Clock() = %d, want %d", c.Clock(), tc.clock)
			}
			if want, got := p.do(t, "dump 0"), hexOf(condMem(mem, 1)); got != want {
				t.Errorf("after init over 0xa5 bytes:\n C pthread_cond_init %s\n Go InitCond         %s", want, got)
			}
			// And CondAt reads the clock back from C's bytes.
			cc, err := pthread.CondAt(condMem(mem, 0))
			if err != nil {
				t.Fatal(err)
			}
			if cc.Clock() != tc.clock {
				t.Errorf("CondAt of C's condvar: Clock() = %d, want %d", cc.Clock(), tc.clock)
			}
		})
	}
}

// TestCondNoWaiterBytes: Signal and Broadcast with no waiter change what
// glibc's change (nothing), after a history of waits.
func TestCondNoWaiterBytes(t *testing.T) {
	mem, p := condRig(t, 0)
	lock := lockAt(mem)
	c0, err := pthread.CondAt(condMem(mem, 0))
	if err != nil {
		t.Fatal(err)
	}
	// Give cond 0 a history: a C waiter signalled by Go.
	waiter := startCondPeer(t)
	waiter.do(t, "lock")
	waiter.send(t, "wait 0")
	asleepOn(t, waiter.pid(), waiter.futexAddr(0, 0), 1)
	c0.Signal()
	if got := waiter.answer(t); got != "ok" {
		t.Fatalf("C waiter: %s", got)
	}
	waiter.do(t, "unlock")
	for _, op := range []string{"signal", "broadcast"} {
		before := p.do(t, "dump 0")
		p.do(t, "%s 0", op)
		if after := p.do(t, "dump 0"); after != before {
			t.Fatalf("C %s with no waiter changed the condvar: %s -> %s", op, before, after)
		}
		if op == "signal" {
			c0.Signal()
		} else {
			c0.Broadcast()
		}
		if got := hexOf(condMem(mem, 0)); got != before {
			t.Errorf("Go %s with no waiter: %s, glibc leaves %s", op, got, before)
		}
	}
	_ = lock
}

// TestCondOneWaiterBytes compares the condvar's bytes, glibc's against
// Go's, with one waiter asleep, and after a signal or broadcast to it. The
// waiter is a C process, stopped (SIGSTOP) once asleep so that it cannot
// move on before the bytes are read; cond 0 is signalled by C and cond 1
// by Go, from the same state. A Go waiter asleep leaves the same bytes as
// a C one.
func TestCondOneWaiterBytes(t *testing.T) {
	for _, op := range []string{"signal", "broadcast"} {
		t.Run(op, func(t *testing.T) {
			mem, p := condRig(t, 0)
			c1, err := pthread.CondAt(condMem(mem, 1))
			if err != nil {
				t.Fatal(err)
			}
			// Three rounds, so that groups switch and slots alias.
			w0, w1 := startCondPeer(t), startCondPeer(t)
			for round := range 3 {
				w0.do(t, "lock")
				w0.send(t, "waitunlock 0")
				asleepOn(t, w0.pid(), w0.futexAddr(0, round%2), 1)
				w1.do(t, "lock")
				w1.send(t, "waitunlock 1")
				asleepOn(t, w1.pid(), w1.futexAddr(1, round%2), 1)
				if want, got := p.do(t, "dump 0"), hexOf(condMem(mem, 1)); got != want {
					t.Errorf("round %d, one C waiter asleep: cond 0 %s, cond 1 %s", round, want, got)
				}
				unix.Kill(w0.pid(), unix.SIGSTOP)
				unix.Kill(w1.pid(), unix.SIGSTOP)
				stopped(t, w0.pid())
				stopped(t, w1.pid())
				p.do(t, "%s 0", op)
				if op == "signal" {
					c1.Signal()
				} else {
					c1.Broadcast()
				}
				if want, got := p.do(t, "dump 0"), hexOf(condMem(mem, 1)); got != want {
					t.Errorf("round %d, after %s: C's %s, Go's %s", round, op, want, got)
				}
				unix.Kill(w0.pid(), unix.SIGCONT)
				unix.Kill(w1.pid(), unix.SIGCONT)
				for _, w := range []*condPeer{w0, w1} {
					if got := w.answer(t); got != "ok" {
						t.Fatalf("C waiter: %s", got)
					}
				}
				if want, got := p.do(t, "dump 0"), hexOf(condMem(mem, 1)); got != want {
					t.Errorf("round %d, waiters gone: C's %s, Go's %s", round, want, got)
				}
			}
			// A Go waiter asleep on cond 1 leaves what a C waiter on cond 0
			// leaves.
			lock := lockAt(mem)
			w0.do(t, "lock")
			w0.send(t, "wait 0")
			asleepOn(t, w0.pid(), w0.futexAddr(0, 1), 1)
			lock.Lock()
			done := make(chan error, 1)
			go func() { done <- c1.WaitLocker(context.Background(), lock) }()
			asleepOn(t, 0, fmt.Sprintf("%#x", pthread.CondFutexAddr(c1, 1)), 1)
			if want, got := p.do(t, "dump 0"), hexOf(condMem(mem, 1)); got != want {
				t.Errorf("a C waiter asleep on cond 0 %s, a Go waiter on cond 1 %s", want, got)
			}
			p.do(t, "signal 1")
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			lock.Unlock()
			p.do(t, "signal 0")
			if got := w0.answer(t); got != "ok" {
				t.Fatalf("C waiter: %s", got)
			}
			w0.do(t, "unlock")
		})
	}
}

// TestCondCrossWake: a Go Signal wakes a C waiter, a C signal wakes a Go
// waiter, and a broadcast from either language wakes every waiter of
// both.
func TestCondCrossWake(t *testing.T) {
	t.Run("Go-signals-C", func(t *testing.T) {
		mem, _ := condRig(t, 0)
		c, _ := pthread.CondAt(condMem(mem, 0))
		w := startCondPeer(t)
		for round := range 4 {
			w.do(t, "lock")
			w.send(t, "wait 0")
			asleepOn(t, w.pid(), w.futexAddr(0, round%2), 1)
			c.Signal()
			if got := w.answer(t); got != "ok" {
				t.Fatalf("round %d: C waiter: %s", round, got)
			}
			w.do(t, "unlock")
		}
	})
	t.Run("C-signals-Go", func(t *testing.T) {
		mem, p := condRig(t, 0)
		c, _ := pthread.CondAt(condMem(mem, 0))
		lock := lockAt(mem)
		for round := range 4 {
			lock.Lock()
			done := make(chan error, 1)
			go func() { done <- c.WaitLocker(context.Background(), lock) }()
			asleepOn(t, 0, fmt.Sprintf("%#x", pthread.CondFutexAddr(c, round%2)), 1)
			p.do(t, "signal 0")
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(condStepLimit):
				t.Fatalf("round %d: the Go waiter was not woken by C's signal", round)
			}
			lock.Unlock()
		}
	})
	for _, from := range []string{"Go", "C"} {
		t.Run("broadcast-from-"+from, func(t *testing.T) {
			const n = 3
			mem, p := condRig(t, 0)
			c, _ := pthread.CondAt(condMem(mem, 0))
			lock := lockAt(mem)
			var peers []*condPeer
			for range n {
				w := startCondPeer(t)
				w.do(t, "lock")
				w.send(t, "waitunlock 0")
				asleepOn(t, w.pid(), w.futexAddr(0, 0), 1)
				peers = append(peers, w)
			}
			done := make(chan error, n)
			for range n {
				lock.Lock()
				go func() {
					err := c.WaitLocker(context.Background(), lock)
					lock.Unlock()
					done <- err
				}()
			}
			asleepOn(t, 0, fmt.Sprintf("%#x", pthread.CondFutexAddr(c, 0)), n)
			if from == "Go" {
				c.Broadcast()
			} else {
				p.do(t, "broadcast 0")
			}
			for _, w := range peers {
				if got := w.answer(t); got != "ok" {
					t.Fatalf("C waiter: %s", got)
				}
			}
			for range n {
				select {
				case err := <-done:
					if err != nil {
						t.Fatal(err)
					}
				case <-time.After(condStepLimit):
					t.Fatal("a Go waiter was not woken by the broadcast")
				}
			}
		})
	}
}

// TestCondTimedWait: a wait with a deadline returns ctx's error on time
// (not before the deadline, and soon after), with the mutex held again, on
// either clock; glibc's pthread_cond_timedwait on a Go-made condvar does
// the same; a cancelled context ends a wait without a deadline.
func TestCondTimedWait(t *testing.T) {
	const wait = 150 * time.Millisecond
	// Late by more than this is a failure; a loaded 2-core machine running
	// the race detector and other packages' tests can be that late.
	const slack = 400 * time.Millisecond
	for _, clock := range []int32{unix.CLOCK_REALTIME, unix.CLOCK_MONOTONIC} {
		t.Run(strconv.Itoa(int(clock)), func(t *testing.T) {
			requireCondPeer(t)
			mem := condSegment(t)
			p := startCondPeer(t)
			p.do(t, "mutexinit")
			c, err := pthread.InitCondClock(condMem(mem, 0), clock)
			if err != nil {
				t.Fatal(err)
			}
			lock := lockAt(mem)
			lock.Lock()
			start := time.Now() // before the deadline is set: a preemption in between must not shorten the wait measured
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			err = c.WaitLocker(ctx, lock)
			took := time.Since(start)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("WaitContext past the deadline: %v, want DeadlineExceeded", err)
			}
			// The futex's deadline is on the condvar's clock and took is
			// measured on the monotonic one: CLOCK_REALTIME, slewed by
			// NTP (up to 500ppm), may reach the deadline a little early.
			early := time.Duration(0)
			if clock == unix.CLOCK_REALTIME {
				early = time.Millisecond
			}
			if took < wait-early || took > wait+slack {
				t.Errorf("WaitContext with a %v deadline took %v", wait, took)
			}
			if s := p.do(t, "dump 0"); s != hexOf(condMem(mem, 0)) {
				t.Fatal("the peer sees other bytes")
			}
			// The mutex is held: the C peer's lock must wait for us.
			p.send(t, "lock")
			asleepOn(t, p.pid(), fmt.Sprintf("%#x", p.base+mutexOff), 1)
			lock.Unlock()
			if got := p.answer(t); got != "ok" {
				t.Fatalf("C lock: %s", got)
			}
			// glibc on the Go-made condvar, with its clock.
			p.send(t, "timedwait 0 %d", wait.Milliseconds())
			line := p.answer(t)
			var e, us int
			if _, err := fmt.Sscanf(line, "err %d %d", &e, &us); err != nil || e != int(unix.ETIMEDOUT) {
				t.Fatalf("C pthread_cond_timedwait on the Go condvar: %q, want ETIMEDOUT", line)
			}
			if d := time.Duration(us) * time.Microsecond; d < wait || d > wait+slack {
				t.Errorf("C pthread_cond_timedwait on the Go condvar took %v", d)
			}
			p.do(t, "unlock")
		})
	}
	t.Run("C-timedwait", func(t *testing.T) {
		mem, p := condRig(t, 1)
		_ = mem
		p.do(t, "lock")
		p.send(t, "timedwait 0 %d", wait.Milliseconds())
		line := p.answer(t)
		var e, us int
		if _, err := fmt.Sscanf(line, "err %d %d", &e, &us); err != nil || e != int(unix.ETIMEDOUT) {
			t.Fatalf("C timedwait: %q", line)
		}
		if d := time.Duration(us) * time.Microsecond; d < wait || d > wait+slack {
			t.Errorf("C pthread_cond_timedwait took %v", d)
		}
		p.do(t, "unlock")
	})
	t.Run("cancel", func(t *testing.T) {
		mem, p := condRig(t, 0)
		c, _ := pthread.CondAt(condMem(mem, 0))
		lock := lockAt(mem)
		// A C waiter shares the futex and must not be disturbed.
		w := startCondPeer(t)
		w.do(t, "lock")
		w.send(t, "wait 0")
		asleepOn(t, w.pid(), w.futexAddr(0, 0), 1)
		lock.Lock()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- c.WaitLocker(ctx, lock) }()
		asleepOn(t, 0, fmt.Sprintf("%#x", pthread.CondFutexAddr(c, 0)), 1)
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled wait: %v", err)
		}
		lock.Unlock()
		// The C waiter is still waiting, and a signal wakes it.
		asleepOn(t, w.pid(), w.futexAddr(0, 0), 1)
		p.do(t, "signal 0")
		if got := w.answer(t); got != "ok" {
			t.Fatalf("C waiter: %s", got)
		}
		w.do(t, "unlock")
	})
}

// produceGo and consumeGo are the Go halves of the peer's bounded buffer
// (cond 0 "not empty", cond 1 "not full"). Each wait is bounded by limit,
// so that a lost wake-up fails instead of hanging.
func produceGo(mem []byte, lock goLock, notEmpty, notFull *pthread.Cond, id, count, capacity uint64, limit time.Duration) (sum uint64, err error) {
	put, get, items := bufferAt(mem)
	for i := range count {
		v := id<<40 | i
		lock.Lock()
		for *put-*get == capacity {
			ctx, cancel := context.WithTimeout(context.Background(), limit)
			err := lock.wait(ctx, notFull)
			cancel()
			if err != nil {
				lock.Unlock()
				return sum, fmt.Errorf("item %d: %w", i, err)
			}
		}
		items[*put%capacity] = v
		*put++
		notEmpty.Signal()
		lock.Unlock()
		sum += v
	}
	return sum, nil
}

func consumeGo(mem []byte, lock goLock, notEmpty, notFull *pthread.Cond, count, capacity uint64, limit time.Duration) (sum, hash uint64, err error) {
	put, get, items := bufferAt(mem)
	for i := range count {
		lock.Lock()
		for *put == *get {
			ctx, cancel := context.WithTimeout(context.Background(), limit)
			err := lock.wait(ctx, notEmpty)
			cancel()
			if err != nil {
				lock.Unlock()
				return sum, hash, fmt.Errorf("item %d: %w", i, err)
			}
		}
		v := items[*get%capacity]
		*get++
		notFull.Signal()
		lock.Unlock()
		sum += v
		hash += splitmix(v)
	}
	return sum, hash, nil
}

// goLock is the Go workers' hold on glibc's mutex in the segment: the
// stand-in glibcLock, or a pthread.Mutex from MutexAt.
type goLock struct {
	Lock, Unlock func() error
	wait         func(ctx context.Context, c *pthread.Cond) error
}

func goLockFor(t *testing.T, mem []byte, useMutex bool) goLock {
	t.Helper()
	if !useMutex {
		l := lockAt(mem)
		return goLock{l.Lock, l.Unlock, func(ctx context.Context, c *pthread.Cond) error { return c.WaitLocker(ctx, l) }}
	}
	m, err := pthread.MutexAt(mem[mutexOff : mutexOff+64])
	if err != nil {
		t.Fatal(err)
	}
	return goLock{m.Lock, m.Unlock, func(ctx context.Context, c *pthread.Cond) error { return c.WaitContext(ctx, m) }}
}

type bbResult struct {
	name      string
	sum, hash uint64
	err       error
}

// runBoundedBuffer moves items through a buffer of capacity slots with
// one C producer, one C consumer, one Go producer and one Go consumer
// (each moving perWorker items), and checks the counts and checksums.
func runBoundedBuffer(t *testing.T, mem []byte, lock goLock, cp, cc *condPeer, perWorker, capacity uint64, limit time.Duration) {
	t.Helper()
	notEmpty, err := pthread.CondAt(condMem(mem, 0))
	if err != nil {
		t.Fatal(err)
	}
	notFull, err := pthread.CondAt(condMem(mem, 1))
	if err != nil {
		t.Fatal(err)
	}
	put, get, _ := bufferAt(mem)
	*put, *get = 0, 0
	ms := limit.Milliseconds()
	cp.send(t, "produce 1 %d %d %d", perWorker, capacity, ms)
	cc.send(t, "consume %d %d %d", perWorker, capacity, ms)
	results := make(chan bbResult, 2)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		s, err := produceGo(mem, lock, notEmpty, notFull, 2, perWorker, capacity, limit)
		results <- bbResult{"Go producer", s, 0, err}
	}()
	go func() {
		defer wg.Done()
		s, h, err := consumeGo(mem, lock, notEmpty, notFull, perWorker, capacity, limit)
		results <- bbResult{"Go consumer", s, h, err}
	}()
	wg.Wait()
	close(results)
	var wantSum, wantHash uint64
	for i := range perWorker {
		for _, id := range []uint64{1, 2} {
			wantSum += id<<40 | i
			wantHash += splitmix(id<<40 | i)
		}
	}
	var gotSum, gotHash, prodSum uint64
	for r := range results {
		if r.err != nil {
			t.Fatalf("%s: %v", r.name, r.err)
		}
		if r.name == "Go producer" {
			prodSum += r.sum
		} else {
			gotSum += r.sum
			gotHash += r.hash
		}
	}
	line := cp.answer(t)
	var s uint64
	if _, err := fmt.Sscanf(line, "ok %d", &s); err != nil {
		t.Fatalf("C producer: %s", line)
	}
	prodSum += s
	line = cc.answer(t)
	var n, h uint64
	if _, err := fmt.Sscanf(line, "ok %d %d %d", &n, &s, &h); err != nil || n != perWorker {
		t.Fatalf("C consumer: %s", line)
	}
	gotSum += s
	gotHash += h
	if prodSum != wantSum || gotSum != wantSum || gotHash != wantHash {
		t.Errorf("produced sum %d, consumed sum %d hash %#x; want sum %d hash %#x", prodSum, gotSum, gotHash, wantSum, wantHash)
	}
	if *put != 2*perWorker || *get != 2*perWorker {
		t.Errorf("put %d get %d, want %d each", *put, *get, 2*perWorker)
	}
}

// TestCondBoundedBuffer moves 10^6 items (10^5 under the race detector or
// -short) through an 8-slot buffer with two C and two Go workers, the Go
// ones taking glibc's mutex with pthread.Mutex (and 10^5 with the
// stand-in lock).
func TestCondBoundedBuffer(t *testing.T) {
	total := uint64(1_000_000)
	if raceEnabled || testing.Short() {
		total = 100_000
	}
	for _, useMutex := range []bool{false, true} {
		t.Run(map[bool]string{false: "glibc-lock", true: "Mutex"}[useMutex], func(t *testing.T) {
			mem, _ := condRig(t, 0)
			cp, cc := startCondPeer(t), startCondPeer(t)
			n := total
			if !useMutex {
				n = min(n, 100_000) // the stand-in only shows the algorithm apart from Mutex
			}
			runBoundedBuffer(t, mem, goLockFor(t, mem, useMutex), cp, cc, n/4, 8, 10*time.Second)
		})
	}
}

// TestCondLostWakeupStress repeats a short bounded-buffer run 1,000 times
// (a buffer of one slot, so that every item is a hand-off with a wait on
// each side). Every wait is bounded, so a lost wake-up fails the run
// instead of hanging; the whole is bounded by a deadline too.
func TestCondLostWakeupStress(t *testing.T) {
	runs := 1000
	if testing.Short() {
		runs = 100
	}
	mem, _ := condRig(t, 0)
	cp, cc := startCondPeer(t), startCondPeer(t)
	lock := goLockFor(t, mem, true)
	deadline := time.Now().Add(2 * time.Minute)
	for run := range runs {
		if time.Now().After(deadline) {
			t.Fatalf("only %d runs of %d before the deadline", run, runs)
		}
		runBoundedBuffer(t, mem, lock, cp, cc, 10, 1, 5*time.Second)
		if t.Failed() {
			t.Fatalf("run %d failed", run)
		}
	}
}
