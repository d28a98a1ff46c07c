package conformance

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// TestSemaphoreSetAPI runs the SemaphoreSet API over each implementation.
func TestSemaphoreSetAPI(t *testing.T) {
	each(t, func(t *testing.T, impl sysapi.Impl) map[string]string {
		sys := shmmap.Using(impl)
		o := map[string]string{}
		is := func(name string, err, target error) {
			if !errors.Is(err, target) {
				t.Errorf("%s: %v, want an error matching %v", name, err, target)
			}
			o[name] = errString(err)
		}
		_, err := sys.OpenSemaphores(key)
		is("open missing", err, fs.ErrNotExist)
		set, created, err := sys.OpenOrCreateSemaphores(key, 2, 0o600)
		if err != nil || !created {
			t.Fatalf("OpenOrCreateSemaphores: %v, created %v", err, created)
		}
		_, created, err = sys.OpenOrCreateSemaphores(key, 2, 0o600)
		if err != nil || created {
			t.Fatalf("second OpenOrCreateSemaphores: %v, created %v", err, created)
		}
		_, err = sys.CreateSemaphores(key, 2, 0o600)
		is("create existing", err, fs.ErrExist)
		opened, err := sys.OpenSemaphores(key)
		if err != nil || opened.Len() != 2 || opened.ID() != set.ID() {
			t.Fatalf("OpenSemaphores: %v (len %d)", err, opened.Len())
		}

		is("trywait on zero", set.TryWait(0), shmmap.ErrWouldBlock)
		is("trywait on zero is EAGAIN", set.TryWait(0), unix.EAGAIN)
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		err = set.WaitContext(ctx, 0)
		cancel()
		is("wait with deadline", err, context.DeadlineExceeded)
		if el := time.Since(start); el > 5*time.Second {
			t.Errorf("WaitContext took %v past a 30ms deadline", el)
		}
		ctx, cancel = context.WithCancel(context.Background())
		go cancel()
		is("wait cancelled", set.WaitContext(ctx, 0), context.Canceled)

		if err := set.Post(0); err != nil {
			t.Fatal(err)
		}
		if err := set.Post(0); err != nil {
			t.Fatal(err)
		}
		v, _ := set.Value(0)
		o["value after two posts"] = itoa(v)
		if err := set.Wait(0); err != nil {
			t.Fatal(err)
		}
		if err := set.TryWait(0); err != nil {
			t.Fatal(err)
		}
		v, _ = set.Value(0)
		o["value after wait and trywait"] = itoa(v)
		pid, _ := set.LastPID(0)
		o["last pid is ours"] = itoa(boolInt(pid == os.Getpid()))
		if err := set.SetValue(1, 1); err != nil {
			t.Fatal(err)
		}
		if err := set.Lock(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
		is("lock held", set.TryOp(shmmap.SemOp{Num: 1, Delta: -1, Undo: true}), shmmap.ErrWouldBlock)
		if err := set.Unlock(1); err != nil {
			t.Fatal(err)
		}
		n, z, err := set.Waiters(0)
		o["waiters"] = itoa(n) + " " + itoa(z) + errString(err)
		is("index out of range", set.SetValue(2, 1), unix.EINVAL)
		is("op index out of range", set.TryOp(shmmap.SemOp{Num: 5, Delta: 1}), unix.EFBIG)
		is("setval above SEMVMX", set.SetValue(0, 1<<20), unix.ERANGE)

		info, err := set.Stat()
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(shmmap.SemaphoreInfo{Key: key, ID: set.ID(), Len: 2, Mode: 0o600,
			UID: os.Geteuid(), GID: os.Getegid(), CUID: os.Geteuid(), CGID: os.Getegid()},
			*info, cmp.FilterPath(func(p cmp.Path) bool {
				return p.Last().String() == ".OpTime" || p.Last().String() == ".ChangeTime"
			}, cmp.Ignore())); d != "" {
			t.Errorf("Stat (-want +got):\n%s", d)
		}
		if info.OpTime.IsZero() || time.Since(info.OpTime) > time.Minute {
			t.Errorf("OpTime %v", info.OpTime)
		}
		if err := set.Remove(); err != nil {
			t.Fatal(err)
		}
		is("use after remove", set.Post(0), unix.EINVAL)
		return o
	})
}
