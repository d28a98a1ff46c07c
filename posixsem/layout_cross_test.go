package posixsem_test

import (
	"bytes"
	"fmt"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap/posixsem"
)

// TestGlibcLayout holds the Go semaphore's bytes to what glibc itself
// writes, in this binary's ABI (32-bit glibc in a 386 test run, where the C
// peer is built with -m32): the sem.NAME file sem_open creates, the sem_t
// sem_init writes over memory that held garbage, and the sem_t while one
// waiter sleeps on it (glibc's nwaiters, and the waiters bit of the 32-bit
// value). The expected bytes are always the C peer's.
func TestGlibcLayout(t *testing.T) {
	requireC(t)
	if cSemSize != posixsem.Size {
		t.Fatalf("C sizeof(sem_t) = %d, Go Size = %d", cSemSize, posixsem.Size)
	}
	t.Run("sem_open", func(t *testing.T) {
		p := startPeer(t)
		cName, goName := semName(t), semName(t)
		p.do(t, "create %s 600 7", cName)
		s, err := posixsem.Open(goName, os.O_CREATE|os.O_EXCL, 0o600, 7)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if diff := cmp.Diff(semFile(t, cName), semFile(t, goName)); diff != "" {
			t.Errorf("sem.NAME file, C sem_open (-) vs Go Open (+):\n%s", diff)
		}
	})
	t.Run("sem_init", func(t *testing.T) {
		cf, cmem := memfd(t)
		_, gomem := memfd(t)
		fill := bytes.Repeat([]byte{0xa5}, 64)
		copy(cmem, fill)
		copy(gomem, fill)
		p := startPeer(t, cf)
		p.do(t, "fd 3 4096 0")
		p.do(t, "init 5")
		if _, err := posixsem.Init(gomem, 5); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(cmem[:64], gomem[:64]); diff != "" {
			t.Errorf("64 bytes after sem_init over 0xa5, C (-) vs Go (+):\n%s", diff)
		}
	})
	t.Run("one-waiter", func(t *testing.T) {
		// The same semaphore state reached twice: a C sem_wait asleep on a
		// sem_t at value 0, then a Go Wait asleep on it.
		f, mem := memfd(t)
		s, err := posixsem.Init(mem, 0)
		if err != nil {
			t.Fatal(err)
		}
		p := startPeer(t, f)
		addr := p.do(t, "fd 3 4096 0")
		p.send(t, "wait")
		waitAsleep(t, p.pid(), addr, 1)
		cWaiting := append([]byte(nil), mem[:posixsem.Size]...)
		if err := s.Post(); err != nil {
			t.Fatal(err)
		}
		if got := p.answer(t); got != "ok" {
			t.Fatalf("C sem_wait: %s", got)
		}
		goDone := make(chan error, 1)
		go func() { goDone <- s.Wait() }()
		waitAsleep(t, 0, hexAddr(posixsem.FutexAddr(s)), 1)
		goWaiting := append([]byte(nil), mem[:posixsem.Size]...)
		p.do(t, "post")
		if err := <-goDone; err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(cWaiting, goWaiting); diff != "" {
			t.Errorf("sem_t with one waiter asleep, C (-) vs Go (+):\n%s", diff)
		}
		if n := posixsem.Waiters(s); n != 0 {
			t.Errorf("nwaiters = %d after both waits returned", n)
		}
	})
}

// semFile returns the bytes of the named semaphore's file.
func semFile(t *testing.T, name string) []byte {
	t.Helper()
	path, ok := posixsem.Path(name)
	if !ok {
		t.Fatalf("%q is not a semaphore name", name)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(fmt.Errorf("reading %s: %w", path, err))
	}
	return b
}
