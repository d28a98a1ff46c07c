package posixsem_test

// Tests of the pure-Go implementation alone: what glibc has no answer for
// (foreign memory, faults, Close during a wait) and the 32-bit algorithm,
// which only runs on 64-bit machines in these tests.

import (
	"context"
	"errors"
	"math/bits"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/shmmap/shmmap/posixsem"
)

// layouts are the sem_t layouts this machine can run: the native one, and
// on 64-bit machines also the 32-bit one.
var layouts = func() []struct {
	name string
	init func([]byte, uint32) (*posixsem.Semaphore, error)
	at   func([]byte) (*posixsem.Semaphore, error)
} {
	l := []struct {
		name string
		init func([]byte, uint32) (*posixsem.Semaphore, error)
		at   func([]byte) (*posixsem.Semaphore, error)
	}{{"native", posixsem.Init, posixsem.At}}
	if bits.UintSize == 64 {
		l = append(l, struct {
			name string
			init func([]byte, uint32) (*posixsem.Semaphore, error)
			at   func([]byte) (*posixsem.Semaphore, error)
		}{"32-bit", posixsem.InitNarrow, posixsem.AtNarrow})
	}
	return l
}()

// TestAtRejects: At takes only memory holding a process-shared sem_t.
func TestAtRejects(t *testing.T) {
	mem := sharedMem(t, 4096)
	private := 8 // offset of the private field
	if posixsem.Size == 16 {
		private = 4
	}
	put32 := func(off int, v uint32) { *(*uint32)(unsafe.Pointer(&mem[off])) = v }
	cases := []struct {
		name string
		fill func()
		want string
	}{
		{"zeroes", func() {}, "FUTEX_PRIVATE"},
		{"pshared-0", func() { put32(0, 2) }, "pshared 0"},
		{"garbage", func() { copy(mem, strings.Repeat("A", posixsem.Size)) }, "private field is 0x41414141"},
	}
	if posixsem.Size == 32 {
		cases = append(cases, struct {
			name string
			fill func()
			want string
		}{"value-too-large", func() { put32(0, 1<<31); put32(private, 128) }, "above SEM_VALUE_MAX"})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clear(mem)
			c.fill()
			_, err := posixsem.At(mem)
			if !errors.Is(err, posixsem.ErrNotSemaphore) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("At = %v, want ErrNotSemaphore saying %q", err, c.want)
			}
		})
	}
	// Init makes any memory a semaphore, garbage included.
	copy(mem, strings.Repeat("A", posixsem.Size))
	if _, err := posixsem.Init(mem, 2); err != nil {
		t.Fatal(err)
	}
	s, err := posixsem.At(mem)
	if err != nil {
		t.Fatal(err)
	}
	wantValue(t, s, 2)
	if n := posixsem.Waiters(s); n != 0 {
		t.Errorf("nwaiters = %d after Init over garbage", n)
	}
}

// TestFault: a file truncated under the semaphore's mapping gives ErrFault
// from every method, not a crash.
func TestFault(t *testing.T) {
	t.Run("named", func(t *testing.T) {
		name := semName(t)
		s, err := posixsem.Open(name, os.O_CREATE|os.O_EXCL, 0o600, 1)
		if err != nil {
			t.Fatal(err)
		}
		path, _ := posixsem.Path(name)
		if err := os.Truncate(path, 0); err != nil {
			t.Fatal(err)
		}
		checkFaults(t, s)
	})
	t.Run("memfd", func(t *testing.T) {
		f, mem := memfd(t)
		s, err := posixsem.Init(mem, 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(0); err != nil {
			t.Fatal(err)
		}
		checkFaults(t, s)
		if _, err := posixsem.Init(mem, 1); !errors.Is(err, posixsem.ErrFault) {
			t.Errorf("Init on truncated memory: %v, want ErrFault", err)
		}
		if _, err := posixsem.At(mem); !errors.Is(err, posixsem.ErrFault) {
			t.Errorf("At on truncated memory: %v, want ErrFault", err)
		}
	})
}

func checkFaults(t *testing.T, s *posixsem.Semaphore) {
	t.Helper()
	_, verr := s.Value()
	for what, err := range map[string]error{
		"Post":        s.Post(),
		"Wait":        s.Wait(),
		"TryWait":     s.TryWait(),
		"WaitContext": s.WaitContext(context.Background()),
		"Value":       verr,
	} {
		if !errors.Is(err, posixsem.ErrFault) {
			t.Errorf("%s on a truncated file: %v, want ErrFault", what, err)
		} else if what == "Post" {
			t.Logf("Post: %v", err)
		}
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// TestCloseWhileWaiting: Close during a Wait keeps the mapping until the
// Wait returns; then it is gone, and the handle is closed.
func TestCloseWhileWaiting(t *testing.T) {
	name := semName(t)
	a, err := posixsem.Open(name, os.O_CREATE|os.O_EXCL, 0o600, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := posixsem.Open(name, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	path, _ := posixsem.Path(name)
	done := make(chan error, 1)
	go func() { done <- a.Wait() }()
	waitAsleep(t, 0, hexAddr(posixsem.FutexAddr(a)), 1)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Post(); !errors.Is(err, posixsem.ErrClosed) {
		t.Errorf("Post after Close: %v", err)
	}
	if n := mappings(t, path); n != 2 {
		t.Errorf("%d mappings of %s while the closed handle still waits, want 2", n, path)
	}
	if err := b.Post(); err != nil {
		t.Fatal(err)
	}
	wantDone(t, done)
	if n := mappings(t, path); n != 1 {
		t.Errorf("%d mappings of %s after the wait returned, want 1", n, path)
	}
	wantValue(t, b, 0)
}

// mappings counts the lines of /proc/self/maps for the file at path, by
// inode: the creator's mapping shows the temporary name sem_open made it
// under ("/dev/shm/sem.XXXXXX (deleted)").
func mappings(t *testing.T, path string) int {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 6 && f[4] == strconv.FormatUint(uint64(st.Ino), 10) && strings.HasPrefix(f[5], "/dev/shm/") {
			n++
		}
	}
	return n
}

// TestStress: goroutines in this process, each with its own handle on the
// same memory, use the semaphore as a lock with every kind of wait (Wait,
// spinning TryWait, WaitContext that times out or is cancelled and then
// retries), and as a counting semaphore between producers and consumers.
// Every increment counts and the semaphore ends idle, in both layouts.
func TestStress(t *testing.T) {
	const goroutines, rounds = 8, 2000
	for _, l := range layouts {
		t.Run(l.name+"/lock", func(t *testing.T) {
			mem := sharedMem(t, 4096)
			s, err := l.init(mem, 1)
			if err != nil {
				t.Fatal(err)
			}
			counter := counterAt(mem)
			var wg sync.WaitGroup
			var timeouts atomic.Int64
			for g := range goroutines {
				h, err := l.at(mem)
				if err != nil {
					t.Fatal(err)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					var spun int
					for i := range rounds {
						if err := take(h, g+i, &timeouts); err != nil {
							t.Error(err)
							return
						}
						v := *counter
						pause(&spun, 3000)
						*counter = v + 1
						if err := h.Post(); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			if got, want := *counter, int64(goroutines*rounds); got != want {
				t.Errorf("counter = %d, want %d", got, want)
			}
			t.Logf("%d waits gave up and retried", timeouts.Load())
			checkQuiet(t, s, 1)
		})
		t.Run(l.name+"/producers-consumers", func(t *testing.T) {
			mem := sharedMem(t, 4096)
			s, err := l.init(mem, 0)
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			var taken atomic.Int64
			for g := range goroutines {
				wg.Add(2)
				go func() {
					defer wg.Done()
					for range rounds {
						if err := s.Post(); err != nil {
							t.Error(err)
							return
						}
					}
				}()
				go func() {
					defer wg.Done()
					var timeouts atomic.Int64
					for i := range rounds {
						if err := take(s, g+i, &timeouts); err != nil {
							t.Error(err)
							return
						}
						taken.Add(1)
					}
				}()
			}
			wg.Wait()
			if got := taken.Load(); got != goroutines*rounds {
				t.Errorf("%d tokens taken, want %d", got, goroutines*rounds)
			}
			checkQuiet(t, s, 0)
		})
	}
}

// take takes a token one of four ways, chosen by i.
func take(s *posixsem.Semaphore, i int, timeouts *atomic.Int64) error {
	switch i % 4 {
	case 0:
		return s.Wait()
	case 1:
		for {
			err := s.TryWait()
			if !errors.Is(err, posixsem.ErrWouldBlock) {
				return err
			}
		}
	case 2:
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Microsecond)
			err := s.WaitContext(ctx)
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) {
				return err
			}
			timeouts.Add(1)
		}
	default:
		for {
			ctx, cancel := context.WithCancel(context.Background())
			go cancel()
			err := s.WaitContext(ctx)
			if !errors.Is(err, context.Canceled) {
				return err
			}
			timeouts.Add(1)
		}
	}
}

// checkQuiet: the semaphore holds value and nobody is registered as a
// waiter.
func checkQuiet(t *testing.T, s *posixsem.Semaphore, value int) {
	t.Helper()
	wantValue(t, s, value)
	if n := posixsem.Waiters(s); n != 0 {
		t.Errorf("nwaiters = %d with nobody waiting", n)
	}
}

// TestNarrowWakeups: in the 32-bit layout a post wakes a sleeping waiter
// through the "waiters present" bit, and the last waiter to leave clears
// it.
func TestNarrowWakeups(t *testing.T) {
	if bits.UintSize != 64 {
		t.Skip("the native layout on this machine; covered by the other tests")
	}
	mem := sharedMem(t, 4096)
	s, err := posixsem.InitNarrow(mem, 0)
	if err != nil {
		t.Fatal(err)
	}
	word := (*uint32)(unsafe.Pointer(&mem[0]))
	done := make(chan error, 2)
	for range 2 {
		go func() { done <- s.Wait() }()
	}
	waitAsleep(t, 0, hexAddr(addrOf(mem)), 2)
	if v := atomic.LoadUint32(word); v != 1 {
		t.Errorf("value word = %#x with two sleepers, want 0x1 (value 0, waiters bit)", v)
	}
	for range 2 {
		if err := s.Post(); err != nil {
			t.Fatal(err)
		}
	}
	wantDone(t, done)
	wantDone(t, done)
	if v := atomic.LoadUint32(word); v != 0 {
		t.Errorf("value word = %#x after both left, want 0", v)
	}
	checkQuiet(t, s, 0)
}
