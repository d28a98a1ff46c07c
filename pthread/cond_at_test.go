package pthread_test

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/shmmap/shmmap/pthread"
	"golang.org/x/sys/unix"
)

// alignedMem returns n bytes aligned to 8 (Go's uint64 slices are).
func alignedMem(n int) []byte {
	words := make([]uint64, (n+7)/8)
	return unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), n)
}

// TestCondAtRefuses: CondAt takes what InitCond wrote and refuses short or
// misaligned memory (EINVAL), a condition variable that is not
// process-shared (ErrNotShared) and states glibc never leaves
// (ErrUnsupported).
func TestCondAtRefuses(t *testing.T) {
	good := alignedMem(64)
	if _, err := pthread.InitCond(good); err != nil {
		t.Fatal(err)
	}
	if _, err := pthread.CondAt(good); err != nil {
		t.Fatalf("CondAt after InitCond: %v", err)
	}
	const wrefsOff, origOff = 36, 32
	put := func(b []byte, off int, v uint32) []byte {
		c := alignedMem(64)
		copy(c, b)
		binary.NativeEndian.PutUint32(c[off:], v)
		return c
	}
	for _, tc := range []struct {
		name string
		mem  []byte
		want error
	}{
		{"short", good[:pthread.CondSize-1], unix.EINVAL},
		{"misaligned", good[1:], unix.EINVAL},
		{"zeroes", alignedMem(64), pthread.ErrNotShared},
		{"private", put(good, wrefsOff, 0), pthread.ErrNotShared},
		{"lock-bits-3", put(good, origOff, 3), pthread.ErrUnsupported},
		{"g1-past-wseq", put(good, 8, 10), pthread.ErrUnsupported},
		{"refs-without-waiters", put(good, 16, 2), pthread.ErrUnsupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := pthread.CondAt(tc.mem)
			if !errors.Is(err, tc.want) {
				t.Fatalf("CondAt: %v, %v; want an error matching %v", c, err, tc.want)
			}
		})
	}
	if _, err := pthread.InitCond(good[4:]); !errors.Is(err, unix.EINVAL) && pthread.CondAlign == 8 {
		t.Errorf("InitCond on misaligned memory: %v", err)
	}
	if _, err := pthread.InitCondClock(good, unix.CLOCK_PROCESS_CPUTIME_ID); !errors.Is(err, unix.EINVAL) {
		t.Errorf("InitCondClock(CLOCK_PROCESS_CPUTIME_ID): %v", err)
	}
	c, _ := pthread.CondAt(good)
	if err := c.Wait(nil); !errors.Is(err, unix.EINVAL) {
		t.Errorf("Wait(nil): %v", err)
	}
}

// FuzzCondAt feeds CondAt random bytes: it must return a Cond or an error,
// never hang or crash, and a Cond it returns must signal and broadcast
// without blocking when nobody holds its internal lock or a group
// reference (which garbage can fake as well as a sleeping waiter can).
func FuzzCondAt(f *testing.F) {
	good := alignedMem(pthread.CondSize)
	pthread.InitCond(good)
	f.Add(append([]byte(nil), good...))
	f.Add(make([]byte, pthread.CondSize))
	f.Add([]byte{1, 2, 3})
	// Group references without waiters to hold them (found by fuzzing:
	// Signal used to wait for them forever).
	f.Add([]byte("0000\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00000000000000000000\x01\x00100000000000"))
	f.Fuzz(func(t *testing.T, b []byte) {
		mem := alignedMem(max(len(b), 1))
		copy(mem, b)
		mem = mem[:len(b)]
		c, err := pthread.CondAt(mem)
		if err != nil {
			if !errors.Is(err, unix.EINVAL) && !errors.Is(err, pthread.ErrNotShared) && !errors.Is(err, pthread.ErrUnsupported) {
				t.Fatalf("CondAt: unexpected error %v", err)
			}
			return
		}
		if binary.NativeEndian.Uint32(mem[32:])&3 != 0 || binary.NativeEndian.Uint64(mem[16:]) != 0 {
			// The internal lock held, or group references held, by waiters
			// CondAt cannot tell from phantoms: Signal would wait for
			// them, as glibc's would.
			return
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.Signal()
			c.Broadcast()
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("Signal/Broadcast on %x did not return", b)
		}
	})
}

// TestCondNarrowCounters checks the 31-bit two-halves counters that
// glibc uses on 32-bit machines (misc/atomic_wide_counter.c) on every
// machine, across the carry from the low half into the high half, against
// plain 64-bit arithmetic.
func TestCondNarrowCounters(t *testing.T) {
	var raw [8]byte
	c := pthread.CounterAt(&raw, false)
	var want uint64
	step := uint32(1 << 29)
	for i := range 40 {
		if got := c.FetchAdd(step); got != want {
			t.Fatalf("step %d: FetchAdd returned %#x, want %#x", i, got, want)
		}
		want += uint64(step)
		if got := c.Load(); got != want {
			t.Fatalf("step %d: Load %#x, want %#x (halves %x)", i, got, want, raw)
		}
		if i%3 == 0 {
			if got := c.FetchXor(1); got != want {
				t.Fatalf("step %d: FetchXor returned %#x, want %#x", i, got, want)
			}
			want ^= 1
		}
	}
	c.Add(5)
	if got := c.Load(); got != want+5 {
		t.Fatalf("Add: %#x, want %#x", got, want+5)
	}
	// The halves are high<<31 + low: low never has its top bit set at rest.
	if lo := binary.NativeEndian.Uint32(raw[:4]); lo>>31 != 0 {
		t.Errorf("low half %#x has the overflow bit set at rest", lo)
	}
}

// TestCondNarrowBuffer runs a bounded buffer among goroutines over a
// condvar in the 32-bit layout (tested here on every machine; the
// cross-process tests use it against 32-bit glibc in a 386 run), with a
// Go mutex, and with the counters started just below the low half's
// overflow so that the carry happens under load.
func TestCondNarrowBuffer(t *testing.T) {
	for _, variant := range []struct {
		name string
		init func([]byte) (*pthread.Cond, error)
	}{{"native", pthread.InitCond}, {"narrow", pthread.InitCondNarrow}} {
		t.Run(variant.name, func(t *testing.T) {
			mem := alignedMem(4096)
			m, err := pthread.InitMutex(mem[:64], pthread.MutexAttr{})
			if err != nil {
				t.Fatal(err)
			}
			initCond := variant.init
			notEmpty, err := initCond(mem[64:128])
			if err != nil {
				t.Fatal(err)
			}
			notFull, err := initCond(mem[128:192])
			if err != nil {
				t.Fatal(err)
			}
			wide := pthread.CondWide(notEmpty)
			if !wide {
				// __wseq's low half just below 1<<31 (an even position, G2 = 0)
				// and G1 empty at the same place.
				for _, off := range []int{64, 128} {
					binary.NativeEndian.PutUint32(mem[off:], 1<<31-64)
					binary.NativeEndian.PutUint32(mem[off+8:], 1<<31-64)
				}
			}
			const perWorker = 20000
			var (
				buf      [4]uint64
				put, get uint64
				wg       sync.WaitGroup
				sums     [2]uint64
				errs     = make(chan error, 4)
			)
			ctxWait := func(c *pthread.Cond) error {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				return c.WaitContext(ctx, m)
			}
			for p := range 2 {
				wg.Add(2)
				go func() {
					defer wg.Done()
					for i := range uint64(perWorker) {
						m.Lock()
						for put-get == uint64(len(buf)) {
							if err := ctxWait(notFull); err != nil {
								m.Unlock()
								errs <- err
								return
							}
						}
						buf[put%uint64(len(buf))] = uint64(p)<<40 | i
						put++
						notEmpty.Signal()
						m.Unlock()
					}
				}()
				go func() {
					defer wg.Done()
					for range perWorker {
						m.Lock()
						for put == get {
							if err := ctxWait(notEmpty); err != nil {
								m.Unlock()
								errs <- err
								return
							}
						}
						sums[p] += splitmix(buf[get%uint64(len(buf))])
						get++
						notFull.Signal()
						m.Unlock()
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			var want uint64
			for p := range uint64(2) {
				for i := range uint64(perWorker) {
					want += splitmix(p<<40 | i)
				}
			}
			if got := sums[0] + sums[1]; got != want || put != 2*perWorker || get != put {
				t.Errorf("hash %#x (want %#x), put %d get %d", got, want, put, get)
			}
			if !wide {
				wseq, g1 := pthread.CondSeq(notEmpty)
				if wseq>>1 < 1<<30 || g1>>1 < 1<<30 {
					t.Errorf("the counters did not cross the low half's overflow: wseq %#x g1_start %#x", wseq, g1)
				}
			}
		})
	}
}
