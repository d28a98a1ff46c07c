package pthread_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/shmmap/shmmap/internal/futexwait"
	"github.com/shmmap/shmmap/pthread"
	"github.com/shmmap/shmmap/shmtest"
	"golang.org/x/sys/unix"
)

// sharedMem returns size bytes of anonymous MAP_SHARED memory.
func sharedMem(t testing.TB, size int) []byte {
	t.Helper()
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(mem) })
	return mem
}

// inGoroutine runs fn in a new goroutine and returns its error.
func inGoroutine(fn func() error) error {
	ch := make(chan error, 1)
	go func() { ch <- fn() }()
	return <-ch
}

// TestOwnerGoroutine: the owner of an errorcheck or recursive mutex,
// robust or not, is the goroutine that locked it: relocking from it is
// EDEADLK (or counted), unlocking or relocking from another goroutine is
// EPERM or busy.
func TestOwnerGoroutine(t *testing.T) {
	for _, robust := range []bool{false, true} {
		t.Run(fmt.Sprintf("errorcheck/robust=%v", robust), func(t *testing.T) {
			m, err := pthread.InitMutex(sharedMem(t, 4096), pthread.MutexAttr{Type: pthread.MutexErrorCheck, Robust: robust})
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Lock(); err != nil {
				t.Fatal(err)
			}
			if err := m.Lock(); !errors.Is(err, unix.EDEADLK) {
				t.Errorf("relock by the owner: %v, want EDEADLK", err)
			}
			if err := inGoroutine(m.Unlock); !errors.Is(err, unix.EPERM) {
				t.Errorf("unlock from another goroutine: %v, want EPERM", err)
			}
			if err := inGoroutine(func() error {
				ok, err := m.TryLock()
				if ok || err != nil {
					return fmt.Errorf("TryLock = %v, %v", ok, err)
				}
				return nil
			}); err != nil {
				t.Errorf("another goroutine: %v, want false, nil", err)
			}
			if err := m.Unlock(); err != nil {
				t.Fatal(err)
			}
			if err := m.Unlock(); !errors.Is(err, unix.EPERM) {
				t.Errorf("unlock of an unlocked errorcheck mutex: %v, want EPERM", err)
			}
		})
		t.Run(fmt.Sprintf("recursive/robust=%v", robust), func(t *testing.T) {
			mem := sharedMem(t, 4096)
			m, err := pthread.InitMutex(mem, pthread.MutexAttr{Type: pthread.MutexRecursive, Robust: robust})
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				if err := m.Lock(); err != nil {
					t.Fatal(err)
				}
			}
			if c := binary.NativeEndian.Uint32(mem[4:]); c != 3 {
				t.Errorf("__count = %d after three locks", c)
			}
			for i := range 3 {
				if err := inGoroutine(func() error {
					if ok, err := m.TryLock(); ok || err != nil {
						return fmt.Errorf("TryLock = %v, %v", ok, err)
					}
					return nil
				}); err != nil {
					t.Errorf("another goroutine with %d locks left: %v", 3-i, err)
				}
				if err := m.Unlock(); err != nil {
					t.Fatal(err)
				}
			}
			if err := inGoroutine(func() error {
				if err := m.Lock(); err != nil {
					return err
				}
				return m.Unlock()
			}); err != nil {
				t.Errorf("another goroutine after the last unlock: %v", err)
			}
		})
	}
}

// futexSleepers counts this process's goroutines asleep on the futex at
// addr: threads in futex(2) there, and waits internal/futexwait's
// multiplexer holds there (futexwait.Armed).
func futexSleepers(addr uintptr) int {
	prefix := fmt.Sprintf("%d %#x ", unix.SYS_FUTEX, addr)
	n := 0
	tasks, _ := filepath.Glob("/proc/self/task/*/syscall")
	for _, f := range tasks {
		if b, err := os.ReadFile(f); err == nil && strings.HasPrefix(string(b), prefix) {
			n++
		}
	}
	return n + futexwait.Armed(addr)
}

// TestLockContext: a LockContext on a held mutex gives up at its deadline
// and promptly when cancelled without one, leaving the mutex working: the
// holder's unlock still hands it to a waiter that stayed.
func TestLockContext(t *testing.T) {
	for _, robust := range []bool{false, true} {
		t.Run(fmt.Sprintf("robust=%v", robust), func(t *testing.T) {
			mem := sharedMem(t, 4096)
			m, err := pthread.InitMutex(mem, pthread.MutexAttr{Robust: robust})
			if err != nil {
				t.Fatal(err)
			}
			held := make(chan struct{})
			release := make(chan struct{})
			holderDone := make(chan error, 1)
			go func() {
				if err := m.Lock(); err != nil {
					holderDone <- err
					close(held)
					return
				}
				close(held)
				<-release
				holderDone <- m.Unlock()
			}()
			<-held

			const d = 50 * time.Millisecond
			ctx, cancel := context.WithTimeout(context.Background(), d)
			start := time.Now()
			err = m.LockContext(ctx)
			cancel()
			// The futex's timeout is on the real-time clock, as
			// pthread_mutex_clocklock's with CLOCK_REALTIME: compare wall
			// clocks (the monotonic one may run a little apart).
			deadline, _ := ctx.Deadline()
			if el := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || time.Now().Round(0).Before(deadline.Round(0)) || el > d+2*time.Second {
				t.Errorf("LockContext with a %v timeout: %v after %v", d, err, el)
			}

			// A waiter that stays, and one cancelled without a deadline.
			stayed := make(chan error, 1)
			go func() {
				err := m.Lock()
				if err == nil {
					err = m.Unlock()
				}
				stayed <- err
			}()
			cctx, ccancel := context.WithCancel(context.Background())
			cancelled := make(chan error, 1)
			go func() { cancelled <- m.LockContext(cctx) }()
			addr := uintptr(unsafe.Pointer(&mem[0]))
			shmtest.WaitFor(t, "two waiters asleep on the mutex", 10*time.Second, func() bool { return futexSleepers(addr) >= 2 })
			ccancel()
			select {
			case err := <-cancelled:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("cancelled LockContext: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("a cancelled LockContext did not return within 5s")
			}
			close(release)
			if err := <-holderDone; err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-stayed:
				if err != nil {
					t.Errorf("the waiter that stayed: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the waiter that stayed never got the mutex: a wake-up was lost")
			}
		})
	}
}

// TestMutexAtRefuses: MutexAt takes only memory holding a process-shared
// mutex of a supported kind.
func TestMutexAtRefuses(t *testing.T) {
	mem := sharedMem(t, 4096)
	put := func(off int, v uint32) { binary.NativeEndian.PutUint32(mem[off:], v) }
	kindOff := pthread.Offsets["__kind"]
	for _, c := range []struct {
		name string
		set  func()
		mem  []byte
		want error
	}{
		{"short", nil, mem[:pthread.MutexSize-1], unix.EINVAL},
		{"misaligned", nil, mem[1:], unix.EINVAL},
		{"zeroes", func() {}, mem, pthread.ErrNotShared},
		{"private-errorcheck", func() { put(int(kindOff), 2) }, mem, pthread.ErrNotShared},
		{"unknown-type", func() { put(int(kindOff), 128|5) }, mem, pthread.ErrUnsupported},
		{"inherit", func() { put(int(kindOff), 128|32) }, mem, pthread.ErrUnsupported},
		{"protect", func() { put(int(kindOff), 128|64) }, mem, pthread.ErrUnsupported},
		{"high-bits", func() { put(int(kindOff), 0x7fff0080) }, mem, pthread.ErrUnsupported},
		{"lock-word", func() { put(int(kindOff), 128); put(0, 7) }, mem, pthread.ErrUnsupported},
		{"owner", func() { put(int(kindOff), 128); put(8, 0xffffffff) }, mem, pthread.ErrUnsupported},
	} {
		clear(mem[:64])
		if c.set != nil {
			c.set()
		}
		if _, err := pthread.MutexAt(c.mem); !errors.Is(err, c.want) {
			t.Errorf("%s: MutexAt = %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := pthread.InitMutex(mem, pthread.MutexAttr{Type: 99}); !errors.Is(err, unix.EINVAL) {
		t.Errorf("InitMutex with type 99: %v, want EINVAL", err)
	}
}

// TestConsistent: only an inconsistent robust mutex is made consistent.
func TestConsistent(t *testing.T) {
	m, err := pthread.InitMutex(sharedMem(t, 4096), pthread.MutexAttr{Robust: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Consistent(); !errors.Is(err, unix.EINVAL) {
		t.Errorf("Consistent on a consistent mutex: %v, want EINVAL", err)
	}
}

// TestCondHooks: the condition variable's unlock leaves __nusers alone,
// and its lock leaves the normal lock word at 2.
func TestCondHooks(t *testing.T) {
	mem := sharedMem(t, 4096)
	m, err := pthread.InitMutex(mem, pthread.MutexAttr{})
	if err != nil {
		t.Fatal(err)
	}
	nusers := func() uint32 { return binary.NativeEndian.Uint32(mem[pthread.Offsets["__nusers"]:]) }
	if err := m.Lock(); err != nil {
		t.Fatal(err)
	}
	if err := pthread.CondUnlock(m); err != nil {
		t.Fatal(err)
	}
	if n := nusers(); n != 1 {
		t.Errorf("__nusers = %d after the condvar's unlock, want 1", n)
	}
	if err := pthread.CondLock(m); err != nil {
		t.Fatal(err)
	}
	if lock, n := binary.NativeEndian.Uint32(mem), nusers(); lock != 2 || n != 1 {
		t.Errorf("after the condvar's lock: lock word %d, __nusers %d; want 2, 1", lock, n)
	}
	if err := m.Unlock(); err != nil {
		t.Fatal(err)
	}
}

// FuzzMutexAt feeds MutexAt arbitrary bytes: it returns a mutex or an
// error, and never hangs or crashes; a mutex it returns can be tried.
func FuzzMutexAt(f *testing.F) {
	f.Add(make([]byte, pthread.MutexSize))
	for _, typ := range []pthread.MutexType{pthread.MutexDefault, pthread.MutexNormal, pthread.MutexErrorCheck, pthread.MutexRecursive, pthread.MutexAdaptive} {
		for _, robust := range []bool{false, true} {
			b := make([]byte, pthread.MutexSize)
			if _, err := pthread.InitMutex(alignedCopy(b), pthread.MutexAttr{Type: typ, Robust: robust}); err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte(strings.Repeat("\xa5", pthread.MutexSize)))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		mem := alignedCopy(data)
		m, err := pthread.MutexAt(mem)
		if err != nil {
			if !errors.Is(err, pthread.ErrNotShared) && !errors.Is(err, pthread.ErrUnsupported) && !errors.Is(err, unix.EINVAL) {
				t.Fatalf("MutexAt: an error matching none of ErrNotShared, ErrUnsupported, EINVAL: %v", err)
			}
			return
		}
		_ = m.Attr()
		// A mutex MutexAt accepted answers TryLock without blocking;
		// only an unlocked one (lock word 0) is then certain to be taken.
		if binary.NativeEndian.Uint32(mem) == 0 {
			if ok, err := m.TryLock(); ok && err == nil {
				if err := m.Unlock(); err != nil {
					t.Fatalf("Unlock after TryLock: %v", err)
				}
			}
		}
	})
}

// alignedCopy copies b (or the first MutexSize bytes, if longer) to
// memory aligned for a mutex: the fuzzer's slices may be misaligned.
func alignedCopy(b []byte) []byte {
	words := make([]uint64, (max(len(b), 1)+7)/8)
	mem := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), len(words)*8)[:len(b)]
	copy(mem, b)
	return mem
}
