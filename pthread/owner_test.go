package pthread_test

import (
	"encoding/binary"
	"strconv"
	"testing"

	"github.com/shmmap/shmmap/shmtest"
)

// TestNormalOwner: the __owner of a mutex without an owner check (default,
// normal, adaptive), as a C peer reads it: glibc writes the locking
// thread's id (the C peer's main thread's, which is its process id); a Go
// peer locking from a thread other than its main thread writes its process
// id instead (see ownerPID), and both clear it on unlock, so that glibc's
// lock, which asserts that __owner is 0 once it has the lock word, takes
// the mutex after Go (the C peer would abort).
func TestNormalOwner(t *testing.T) {
	requireC(t)
	shmtest.Isolate(t)
	for _, name := range []string{"default", "normal", "adaptive"} {
		t.Run(name, func(t *testing.T) {
			f, _ := memfd(t)
			c, g := startPeer(t, "C", f), startPeer(t, "Go", f)
			owner := func() int32 {
				return int32(binary.NativeEndian.Uint32(c.dump(t)[8:]))
			}
			c.do(t, "init %s 0 1", name)
			c.do(t, "lock")
			if got, want := owner(), int32(c.tid(t)); got != want {
				t.Fatalf("__owner %d after glibc's lock, want the C peer's thread id %d", got, want)
			}
			c.do(t, "unlock")
			if got := owner(); got != 0 {
				t.Fatalf("__owner %d after glibc's unlock, want 0", got)
			}
			tid, err := strconv.Atoi(g.do(t, "lockaway"))
			if err != nil {
				t.Fatal(err)
			}
			pid := g.proc.Pid()
			if tid == pid {
				t.Fatalf("the Go peer locked on thread %d, its main thread: the test needs another", tid)
			}
			if got := owner(); got != int32(pid) {
				t.Errorf("__owner %d while the Go peer (process %d) holds the mutex, locked on its thread %d: want the process id", got, pid, tid)
			}
			g.do(t, "unlock")
			if got := owner(); got != 0 {
				t.Errorf("__owner %d after the Go peer's unlock, want 0 as glibc leaves it", got)
			}
			for range 2 {
				c.do(t, "lock")
				c.do(t, "unlock")
			}
		})
	}
}
