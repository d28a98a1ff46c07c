package pthread_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/shmmap/shmmap/pthread"
	"golang.org/x/sys/unix"
)

// TestThreadLifetime: Self gives the calling thread's id (gettid's);
// Release ends the Thread, once; a released Thread is EINVAL for every
// method; a Thread that holds a mutex with an owner refuses Release with
// EBUSY until the mutex is unlocked.
func TestThreadLifetime(t *testing.T) {
	m, err := pthread.InitMutex(sharedMem(t, 4096), pthread.MutexAttr{Type: pthread.MutexErrorCheck, Robust: true})
	if err != nil {
		t.Fatal(err)
	}
	err = inGoroutine(func() error {
		th := pthread.Self()
		if got, want := th.ID(), unix.Gettid(); got != want {
			return fmt.Errorf("ID() = %d, gettid %d", got, want)
		}
		if err := m.LockOn(th); err != nil {
			return err
		}
		if err := th.Release(); !errors.Is(err, unix.EBUSY) {
			return fmt.Errorf("Release holding a mutex: %v, want EBUSY", err)
		}
		if err := m.UnlockOn(th); err != nil {
			return err
		}
		if err := th.Release(); err != nil {
			return fmt.Errorf("Release: %v", err)
		}
		if err := th.Release(); !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("second Release: %v, want EINVAL", err)
		}
		if err := m.LockOn(th); !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("LockOn with a released Thread: %v, want EINVAL", err)
		}
		if ok, err := m.TryLockOn(th); ok || !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("TryLockOn with a released Thread: %v, %v, want EINVAL", ok, err)
		}
		if err := m.UnlockOn(th); !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("UnlockOn with a released Thread: %v, want EINVAL", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestThreadOwners: with a Thread each, two goroutines see the owner
// checks of every type of mutex, robust or not, as with Lock and Unlock:
// the holder's relock is EDEADLK (errorcheck) or counted (recursive), the
// other's unlock EPERM and its trylock busy; the lock word or __owner
// holds the holder's thread id (a normal mutex too: a Thread knows it).
func TestThreadOwners(t *testing.T) {
	for _, attr := range allocKinds {
		t.Run(attr.Type.String()+robustName(attr.Robust), func(t *testing.T) {
			mem := sharedMem(t, 4096)
			m, err := pthread.InitMutex(mem, attr)
			if err != nil {
				t.Fatal(err)
			}
			holder, other := startWorker(t), startWorker(t)
			var tid int
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(holder.do(func(th *pthread.Thread) error { tid = th.ID(); return m.LockOn(th) }))
			lockWord, owner := binary.NativeEndian.Uint32(mem[0:]), int32(binary.NativeEndian.Uint32(mem[8:]))
			if owner != int32(tid) || attr.Robust && lockWord != uint32(tid) {
				t.Errorf("locked by thread %d: lock word %#x, __owner %d", tid, lockWord, owner)
			}
			owned := attr.Robust || attr.Type == pthread.MutexErrorCheck || attr.Type == pthread.MutexRecursive
			relocks := 1
			switch attr.Type {
			case pthread.MutexErrorCheck:
				if err := holder.do(m.LockOn); !errors.Is(err, unix.EDEADLK) {
					t.Errorf("relock by the holder: %v, want EDEADLK", err)
				}
			case pthread.MutexRecursive:
				must(holder.do(m.LockOn))
				if ok, err := m.TryLockOn(nil); ok || err != nil {
					t.Errorf("TryLock from another goroutine with the mutex held: %v, %v", ok, err)
				}
				relocks = 2
			}
			if owned {
				if err := other.do(m.UnlockOn); !errors.Is(err, unix.EPERM) {
					t.Errorf("unlock by another thread: %v, want EPERM", err)
				}
			}
			if err := other.do(func(th *pthread.Thread) error {
				if ok, err := m.TryLockOn(th); ok || err != nil {
					return fmt.Errorf("TryLockOn by another thread: %v, %v, want busy", ok, err)
				}
				return nil
			}); err != nil {
				t.Error(err)
			}
			for range relocks {
				must(holder.do(m.UnlockOn))
			}
			must(other.do(func(th *pthread.Thread) error {
				if ok, err := m.TryLockOn(th); !ok || err != nil {
					return fmt.Errorf("TryLockOn of the free mutex: %v, %v", ok, err)
				}
				return m.UnlockOn(th)
			}))
			if lockWord := binary.NativeEndian.Uint32(mem[0:]); lockWord != 0 {
				t.Errorf("lock word %#x after the last unlock", lockWord)
			}
		})
	}
}

var errMainThread = errors.New("on the main thread")

// TestThreadOwnerDeath: a goroutine that holds robust mutexes through a
// Thread and exits without releasing it ends its thread, as a goroutine
// locked to its thread does; the kernel marks the mutexes owner-died and
// the next LockOn gets ErrOwnerDead.
func TestThreadOwnerDeath(t *testing.T) {
	mem := sharedMem(t, 4096)
	var ms []*pthread.Mutex
	for i := range 2 {
		m, err := pthread.InitMutex(mem[256*i:], pthread.MutexAttr{Type: pthread.MutexErrorCheck, Robust: true})
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	// The holder must not be on the main thread, which the Go runtime
	// never ends: a try that lands there stays, blocked, until the test
	// ends, and the next goes to another thread.
	testDone := make(chan struct{})
	defer close(testDone)
	for {
		errc := make(chan error, 1)
		go func() {
			th := pthread.Self()
			if th.ID() == unix.Getpid() {
				errc <- errMainThread
				<-testDone
				th.Release()
				return
			}
			for _, m := range ms {
				if err := m.LockOn(th); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil // exits holding both, wired: the thread ends
		}()
		err := <-errc
		if err == nil {
			break
		}
		if err != errMainThread {
			t.Fatal(err)
		}
	}
	for i, m := range ms {
		done := make(chan error, 1)
		go func() {
			// The lock sleeps until the kernel has seen the thread end.
			th := pthread.Self()
			err := m.LockOn(th)
			if errors.Is(err, pthread.ErrOwnerDead) {
				if err := m.Consistent(); err != nil {
					done <- err
					return
				}
				err = m.UnlockOn(th)
			} else if err == nil {
				err = errors.New("LockOn succeeded without ErrOwnerDead")
				m.UnlockOn(th)
			}
			if rerr := th.Release(); err == nil {
				err = rerr
			}
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("mutex %d after its holder's thread ended: %v", i, err)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("mutex %d: LockOn still waiting 20s after its holder's goroutine exited", i)
		}
	}
}

// worker is a goroutine with a Thread of its own, running functions of it
// one at a time.
type worker struct {
	fns  chan func(*pthread.Thread) error
	errs chan error
}

// startWorker starts a worker, which releases its Thread and exits when
// the test ends.
func startWorker(t *testing.T) worker {
	w := worker{make(chan func(*pthread.Thread) error), make(chan error)}
	go func() {
		th := pthread.Self()
		for fn := range w.fns {
			w.errs <- fn(th)
		}
		w.errs <- th.Release()
	}()
	t.Cleanup(func() {
		close(w.fns)
		if err := <-w.errs; err != nil {
			t.Errorf("worker's Release: %v", err)
		}
	})
	return w
}

// do runs fn in the worker and returns its error.
func (w worker) do(fn func(*pthread.Thread) error) error {
	w.fns <- fn
	return <-w.errs
}

// TestThreadMixed: a mutex with an owner locked with LockOn may be
// unlocked with Unlock, and one locked with Lock with UnlockOn; a
// condition variable's wait releases and retakes a mutex held through a
// Thread. Through all of it the goroutine stays on its Thread's thread,
// and the Thread is released at the end (no hold left counted).
func TestThreadMixed(t *testing.T) {
	for _, attr := range []pthread.MutexAttr{{Type: pthread.MutexErrorCheck}, {Type: pthread.MutexRecursive, Robust: true}} {
		t.Run(attr.Type.String()+robustName(attr.Robust), func(t *testing.T) {
			mem := sharedMem(t, 4096)
			m, err := pthread.InitMutex(mem, attr)
			if err != nil {
				t.Fatal(err)
			}
			c, err := pthread.InitCond(mem[256:])
			if err != nil {
				t.Fatal(err)
			}
			err = inGoroutine(func() error {
				th := pthread.Self()
				onThread := func(step string) error {
					if tid := unix.Gettid(); tid != th.ID() {
						return fmt.Errorf("%s: on thread %d, the Thread is %d", step, tid, th.ID())
					}
					return nil
				}
				steps := []struct {
					name string
					fn   func() error
				}{
					{"LockOn", func() error { return m.LockOn(th) }},
					{"Unlock", m.Unlock},
					{"Lock", m.Lock},
					{"UnlockOn", func() error { return m.UnlockOn(th) }},
					{"LockOn", func() error { return m.LockOn(th) }},
					{"WaitContext", func() error {
						ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
						defer cancel()
						if err := c.WaitContext(ctx, m); !errors.Is(err, context.DeadlineExceeded) {
							return fmt.Errorf("WaitContext: %v, want DeadlineExceeded", err)
						}
						return nil
					}},
					{"UnlockOn", func() error { return m.UnlockOn(th) }},
				}
				for _, s := range steps {
					if err := s.fn(); err != nil {
						return fmt.Errorf("%s: %w", s.name, err)
					}
					if err := onThread("after " + s.name); err != nil {
						return err
					}
				}
				if lock := binary.NativeEndian.Uint32(mem[0:]); lock != 0 {
					return fmt.Errorf("lock word %#x after the last unlock", lock)
				}
				return th.Release()
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
