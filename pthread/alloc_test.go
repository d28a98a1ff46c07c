package pthread_test

import (
	"context"
	"testing"

	"github.com/shmmap/shmmap/pthread"
)

// allocKinds are the mutexes whose uncontended path must not allocate:
// every type, robust or not.
var allocKinds = []pthread.MutexAttr{
	{Type: pthread.MutexDefault},
	{Type: pthread.MutexNormal},
	{Type: pthread.MutexErrorCheck},
	{Type: pthread.MutexRecursive},
	{Type: pthread.MutexAdaptive},
	{Type: pthread.MutexDefault, Robust: true},
	{Type: pthread.MutexNormal, Robust: true},
	{Type: pthread.MutexErrorCheck, Robust: true},
	{Type: pthread.MutexRecursive, Robust: true},
}

// TestUncontendedAllocs: an uncontended Lock+Unlock, TryLock+Unlock and
// LockContext+Unlock (with a cancellable context, which only a sleeping
// lock needs to watch), and LockOn+UnlockOn and TryLockOn+UnlockOn with a
// Thread, allocate nothing, for every type of mutex, robust
// or not. The first robust lock of a thread may register a robust list
// head, so one round runs before the count.
func TestUncontendedAllocs(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, attr := range allocKinds {
		t.Run(attr.Type.String()+robustName(attr.Robust), func(t *testing.T) {
			m, err := pthread.InitMutex(sharedMem(t, 4096), attr)
			if err != nil {
				t.Fatal(err)
			}
			var failed error
			round := func() {
				if err := m.Lock(); err != nil {
					failed = err
				}
				if err := m.Unlock(); err != nil {
					failed = err
				}
				if ok, err := m.TryLock(); !ok || err != nil {
					failed = err
				}
				if err := m.Unlock(); err != nil {
					failed = err
				}
				if err := m.LockContext(ctx); err != nil {
					failed = err
				}
				if err := m.Unlock(); err != nil {
					failed = err
				}
			}
			round()
			if n := testing.AllocsPerRun(100, round); n != 0 {
				t.Errorf("%v allocations per uncontended round, want 0", n)
			}
			th := pthread.Self()
			defer th.Release()
			roundOn := func() {
				if err := m.LockOn(th); err != nil {
					failed = err
				}
				if err := m.UnlockOn(th); err != nil {
					failed = err
				}
				if ok, err := m.TryLockOn(th); !ok || err != nil {
					failed = err
				}
				if err := m.UnlockOn(th); err != nil {
					failed = err
				}
			}
			if n := testing.AllocsPerRun(100, roundOn); n != 0 {
				t.Errorf("%v allocations per uncontended round with a Thread, want 0", n)
			}
			if failed != nil {
				t.Fatal(failed)
			}
		})
	}
}

func robustName(robust bool) string {
	if robust {
		return "/robust"
	}
	return ""
}
