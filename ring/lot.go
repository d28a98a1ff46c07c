package ring

import (
	"context"
	"errors"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// The lot: goroutines of this process blocked on a ring whose peer is a
// goroutine of this process too. Such a call parks on a Go channel, found
// here by the address of the futex word it would sleep on, and the peer's
// wake-up is a send on that channel instead of FUTEX_WAKE: the hand-off of
// a Go channel. The woken goroutine goes to the waker's P (its runnext)
// and runs there as soon as the waker blocks, so the two sides of an
// in-process request/response take turns on one CPU with their data in its
// cache, with no system call and no thread between them. (Spinning with
// runtime.Gosched instead sends the spinner through the global run queue,
// from which any P takes it: the two sides then run on different CPUs by
// turns and every message crosses between their caches. Sleeping on the
// futex costs the waker a system call and the sleeper a wake-up through
// the netpoller, on whatever P is free.)
//
// The word's protocol is unchanged, so C and other processes are not
// affected: a parked call announces its sleep by setting the word to 1
// before it re-checks the ring (and parks only if the word is still 1,
// looked at under the lot's lock: lotAdd), and the waker swaps the word
// to 0 and takes the call out of the lot in one step under that lock
// (wakeIf, lotSwap); only a waker that finds nobody parked here makes the
// FUTEX_WAKE system call. A waker that does not know the lot — the C
// ring linked into this process through cgo, a process in another PID
// namespace that shows our pid number, the same ring mapped a second time
// at another address — swaps the word and calls FUTEX_WAKE, which a
// parked call does not hear. The sweeper notices: while calls are parked
// it looks at their words every 10 ms, backing off to every 160 ms while
// it finds nothing amiss, and a call whose word it finds 0 in two sweeps
// in a row was woken behind the lot's back. It wakes that call, which
// then sleeps on the futex, as do that side's later calls (its waiter's
// lot flag is cleared for good). The cost of such a peer is one wake-up
// up to lotSweepMax+lotSweep (170 ms) late.
//
// No peer check runs in the lot: a parked call's peer is a goroutine of
// this process, alive as long as the call is. The peer's pid word can stop
// naming this process while a call is parked — our peer closed the role
// (which wakes the call) and another process took it before the call
// looked again, or a process in another PID namespace that showed our pid
// number gave way to another — and that process could die without a
// word. So the call checks the pid word before every park, and the
// sweeper wakes a parked call whose peer is no longer this process: both
// send it back to the futex sleep, whose peer checks see a dead peer.
//
// SHMMAP_RING_LOT=off turns the lot off: every sleep is a futex sleep.

// lotSweep is the sweeper's period after a sweep that found a suspect (a
// parked call whose word is 0, or whose peer left) and when it starts;
// each sweep that finds none doubles it, up to lotSweepMax, so that calls
// parked for long cost the process a few wake-ups a second.
const (
	lotSweep    = 10 * time.Millisecond
	lotSweepMax = 160 * time.Millisecond
)

// lotOn is false under SHMMAP_RING_LOT=off.
var lotOn = os.Getenv("SHMMAP_RING_LOT") != "off"

// parked is a call parked in the lot: an entry in its word's list.
type parked struct {
	ch   chan struct{} // the wake-up: one token, sent under the shard's lock
	w    *waiter
	next *parked
	seen int // sweeps in a row that found the word 0 (under the shard's lock)
}

const lotShards = 64

// Set by tests only: lotAddHook runs inside lotAdd between the count and
// the look at the word, lotWakeHook at the start of lotSwap (a waker held
// up there), and lotNoSweep stops the sweeps, so that a wake-up the lot
// loses is a hang rather than a wake-up the sweeper makes late.
var (
	lotAddHook  atomic.Pointer[func(word *atomic.Uint32)]
	lotWakeHook atomic.Pointer[func(word *atomic.Uint32)]
	lotNoSweep  atomic.Bool
)

// lot holds the parked calls by futex word. n counts them: a waker takes
// no lock while it is 0 (no call of this process is parked: the
// cross-process case), and the sweeper only runs while it is not.
var lot struct {
	n      atomic.Int64
	sweeps atomic.Uint64 // sweeps done, for tests
	kick   chan struct{}
	once   sync.Once
	shards [lotShards]lotShard
}

type lotShard struct {
	mu sync.Mutex
	m  map[*atomic.Uint32]*parked
	_  [48]byte // a cache line each
}

func lotShardOf(word *atomic.Uint32) *lotShard {
	a := uintptr(unsafe.Pointer(word)) >> 2
	return &lot.shards[(a^a>>6^a>>12)%lotShards]
}

// lotAdd parks p on word, unless word is 0 already (the call was woken
// since it announced its sleep): false then. lot.n counts p before p can
// be found and until it has been taken out (lotUnlink, lotSwap), so that a
// waker that reads 0 there may rightly skip the lot: the count is never
// short of the calls in it, not even for a moment, as it would be if a
// waker could take p out before lotAdd had counted it. Looking at word
// under the lock, rather than after lotAdd, also keeps a call that was
// woken in between out of the lot, where the sweeper could take its 0 for
// a waker that does not know the lot.
func lotAdd(word *atomic.Uint32, p *parked) bool {
	if lot.n.Add(1) == 1 {
		lot.once.Do(func() {
			lot.kick = make(chan struct{}, 1)
			go lotSweeper()
		})
		select {
		case lot.kick <- struct{}{}:
		default:
		}
	}
	if h := lotAddHook.Load(); h != nil {
		(*h)(word)
	}
	s := lotShardOf(word)
	s.mu.Lock()
	if word.Load() == 0 {
		s.mu.Unlock()
		lot.n.Add(-1)
		return false
	}
	if s.m == nil {
		s.m = make(map[*atomic.Uint32]*parked)
	}
	p.next, p.seen = s.m[word], 0
	s.m[word] = p
	s.mu.Unlock()
	return true
}

// lotRemove takes p out of the lot; false if a waker already has (and has
// sent p its token).
func lotRemove(word *atomic.Uint32, p *parked) bool {
	s := lotShardOf(word)
	s.mu.Lock()
	defer s.mu.Unlock()
	return lotUnlink(s, word, p)
}

// lotSwap sets word to 0, as a waker does before it wakes, and wakes up
// to n calls parked on word in the lot; it returns word's old value and
// how many calls it woke (the caller makes the FUTEX_WAKE for the others).
//
// With a call parked here, the swap and the call's removal happen under
// the shard's lock, so that the sweeper, which looks at the words under
// that lock, never sees the 0 of a waker that knows the lot before that
// waker has taken the call out: however long the waker is held up (by
// preemption), the sweeper does not take it for one that does not know
// the lot. With nothing parked anywhere (lot.n is 0: the cross-process
// case) it takes no lock: a call counted after the swap finds the word 0
// when it looks under the lock (lotAdd), and does not park.
func lotSwap(word *atomic.Uint32, n int) (old uint32, woke int) {
	if h := lotWakeHook.Load(); h != nil {
		(*h)(word)
	}
	if lot.n.Load() == 0 {
		old = word.Swap(0)
		if lot.n.Load() == 0 {
			return old, 0
		}
		// A call was counted between the two loads, and may have parked
		// before the swap: look (rare).
	}
	s := lotShardOf(word)
	s.mu.Lock()
	defer s.mu.Unlock()
	if v := word.Swap(0); v != 0 {
		old = v
	}
	for p := s.m[word]; p != nil && woke < n; p = s.m[word] {
		s.m[word], p.next = p.next, nil
		p.ch <- struct{}{}
		woke++
	}
	if woke > 0 {
		lot.n.Add(-int64(woke))
		if s.m[word] == nil {
			delete(s.m, word)
		}
	}
	return old, woke
}

// lotSweeper wakes the parked calls woken behind the lot's back (see
// above). It runs while calls are parked, and waits for a kick otherwise.
func lotSweeper() {
	d := lotSweep
	for {
		if lot.n.Load() == 0 {
			<-lot.kick
			d = lotSweep
			continue
		}
		time.Sleep(d)
		if lotNoSweep.Load() {
			continue
		}
		suspects := false
		for i := range lot.shards {
			if lotSweepShard(&lot.shards[i]) {
				suspects = true
			}
		}
		lot.sweeps.Add(1)
		if d = min(2*d, lotSweepMax); suspects {
			d = lotSweep
		}
	}
}

// lotSweepShard sweeps s and reports whether it found a suspect.
func lotSweepShard(s *lotShard) (suspects bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for word := range s.m {
		zero := word.Load() == 0
		for q := s.m[word]; q != nil; {
			p := q
			q = q.next
			switch {
			case p.w.peer.Load() != selfPID:
				// The peer is no longer this process (see blockLot): the
				// call goes back to the futex sleep and its peer checks.
			case !zero:
				p.seen = 0
				continue
			default:
				suspects = true
				if p.seen++; p.seen < 2 {
					continue
				}
				p.w.lot.Store(false)
			}
			suspects = true
			lotUnlink(s, word, p)
			p.ch <- struct{}{}
		}
	}
	return suspects
}

// lotUnlink takes p out of word's list in s (locked); false if it is not
// there.
func lotUnlink(s *lotShard, word *atomic.Uint32, p *parked) bool {
	var prev *parked
	for q := s.m[word]; q != nil; prev, q = q, q.next {
		if q != p {
			continue
		}
		switch {
		case prev != nil:
			prev.next = p.next
		case p.next != nil:
			s.m[word] = p.next
		default:
			delete(s.m, word)
		}
		p.next = nil
		lot.n.Add(-1)
		return true
	}
	return false
}

// errNotLot is blockLot's "sleep on the futex instead".
var errNotLot = errors.New("ring: not in the lot")

// blockLot is block for a call whose peer is a goroutine of this process:
// a few runtime.Gosched turns, then parked in the lot until woken. It
// returns errNotLot, having done nothing the futex sleep would not, once
// the sweeper has found a waker that does not know the lot, or once the
// peer is no longer this process.
func (w *waiter) blockLot(ctx context.Context, try func() error) error {
	turns := 0 // by default none: see the lot's doc above
	if w.spin.Load() >= 0 {
		loads, yields := w.spins()
		turns = loads + yields
	}
	for range turns {
		if err := try(); err != ErrFull && err != ErrEmpty {
			return err
		}
		runtime.Gosched()
	}
	p := w.lotP.Swap(nil)
	if p == nil {
		p = &parked{ch: make(chan struct{}, 1), w: w}
	}
	defer w.lotP.Store(p)
	defer w.word.Store(0)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		w.word.Store(1) // announce the sleep, then re-check (see wakeIf)
		if err := try(); err != ErrFull && err != ErrEmpty {
			return err
		}
		if !w.lot.Load() {
			return errNotLot
		}
		if w.peer.Load() != selfPID {
			// The role passed to another process (ours closed it; or one in
			// another PID namespace shows a pid number that is not ours):
			// the futex sleep, with its peer checks.
			return errNotLot
		}
		if !lotAdd(w.word, p) {
			continue // woken since the announcement
		}
		w.st.sleeps.Add(1)
		done := ctx.Done()
		if done == nil {
			<-p.ch
			continue
		}
		select {
		case <-p.ch:
		case <-done:
			if !lotRemove(w.word, p) {
				<-p.ch
			}
		}
	}
}
