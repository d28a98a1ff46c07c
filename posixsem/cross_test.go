package posixsem_test

// Cross-process tests: a Go process (this test, or the test binary run
// again as a helper) and C processes (testdata/sempeer.c and semcount.c,
// linked with glibc) share one semaphore. Steps are ordered by handshakes:
// an answer line from the C peer, or the waiter seen asleep in futex(2)
// under /proc; never by sleeping.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shmmap/shmmap/posixsem"
	"github.com/shmmap/shmmap/shmtest"
	"golang.org/x/sys/unix"
)

const segKey = 0x5e3a // a System V key, private to each test's IPC namespace

// stepTimeout bounds every wait for a peer's or worker's line.
const stepTimeout = 20 * time.Second

// peer drives testdata/sempeer.c: one command line in, one answer out.
type peer struct {
	proc *shmtest.Process
}

// startPeer starts a C peer; extra become its descriptors 3, 4, ... It is
// killed and reaped when the test ends (closing its stdin ends it; the kill
// covers a peer blocked in a wait).
func startPeer(t *testing.T, extra ...*os.File) *peer {
	t.Helper()
	cmd := peerCommand(t)
	cmd.ExtraFiles = extra
	return &peer{shmtest.Start(t, cmd)}
}

func (p *peer) pid() int { return p.proc.Pid() }

// send sends a command without waiting for the answer.
func (p *peer) send(t *testing.T, format string, args ...any) {
	t.Helper()
	p.proc.Send(t, fmt.Sprintf(format, args...))
}

// answer reads the next answer line.
func (p *peer) answer(t *testing.T) string {
	t.Helper()
	return p.proc.WaitLine(t, "", stepTimeout)
}

// do sends a command and returns what follows "ok" in the answer, failing
// on anything else.
func (p *peer) do(t *testing.T, format string, args ...any) string {
	t.Helper()
	p.send(t, format, args...)
	line := p.answer(t)
	if line != "ok" && !strings.HasPrefix(line, "ok ") {
		t.Fatalf("peer %q: %s", fmt.Sprintf(format, args...), line)
	}
	return strings.TrimPrefix(strings.TrimPrefix(line, "ok"), " ")
}

// rig is one semaphore shared by this process and a C peer.
type rig struct {
	sem      *posixsem.Semaphore
	addr     string // the futex word here
	peer     *peer
	peerAddr string // the futex word in the peer
}

// setups make a rig each way the semaphore can be made and shared.
var setups = []struct {
	name string
	make func(t *testing.T) rig
}{
	{"named-by-Go", func(t *testing.T) rig {
		name := semName(t)
		s, err := posixsem.Open(name, os.O_CREATE|os.O_EXCL, 0o600, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		p := startPeer(t)
		return rig{s, hexAddr(posixsem.FutexAddr(s)), p, p.do(t, "open %s", name)}
	}},
	{"named-by-C", func(t *testing.T) rig {
		name := semName(t)
		p := startPeer(t)
		addr := p.do(t, "create %s 600 0", name)
		s, err := posixsem.Open(name, 0, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return rig{s, hexAddr(posixsem.FutexAddr(s)), p, addr}
	}},
	{"sysv-init-by-Go", func(t *testing.T) rig { return sysvRig(t, true) }},
	{"sysv-init-by-C", func(t *testing.T) rig { return sysvRig(t, false) }},
	{"memfd-init-by-Go", func(t *testing.T) rig { return memfdRig(t, true) }},
	{"memfd-init-by-C", func(t *testing.T) rig { return memfdRig(t, false) }},
}

// sysvSegment creates a 4096-byte segment at segKey in a fresh IPC
// namespace and attaches it.
func sysvSegment(t *testing.T) []byte {
	t.Helper()
	shmtest.Isolate(t)
	id, err := unix.SysvShmGet(segKey, 4096, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
	if err != nil {
		t.Fatal(err)
	}
	mem, err := unix.SysvShmAttach(id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.SysvShmDetach(mem) })
	return mem
}

// sysvRig puts the sem_t at the start of a System V segment, initialised
// by Go (Init) or by C (sem_init) and then taken up by the other.
func sysvRig(t *testing.T, goInits bool) rig {
	mem := sysvSegment(t)
	p := startPeer(t)
	return unnamedRig(t, mem, p, p.do(t, "shm %x 0", segKey), goInits)
}

// memfdRig does the same in a memfd the peer inherits as descriptor 3.
func memfdRig(t *testing.T, goInits bool) rig {
	f, mem := memfd(t)
	p := startPeer(t, f)
	return unnamedRig(t, mem, p, p.do(t, "fd 3 4096 0"), goInits)
}

func memfd(t *testing.T) (*os.File, []byte) {
	t.Helper()
	fd, err := unix.MemfdCreate("posixsem-test", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "memfd")
	t.Cleanup(func() { f.Close() })
	if err := f.Truncate(4096); err != nil {
		t.Fatal(err)
	}
	mem, err := unix.Mmap(fd, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(mem) })
	return f, mem
}

func unnamedRig(t *testing.T, mem []byte, p *peer, peerAddr string, goInits bool) rig {
	t.Helper()
	var s *posixsem.Semaphore
	var err error
	if goInits {
		s, err = posixsem.Init(mem, 0)
	} else {
		p.do(t, "init 0")
		s, err = posixsem.At(mem)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return rig{s, hexAddr(addrOf(mem)), p, peerAddr}
}

// TestCrossWake: a C sem_post wakes a Go waiter asleep in the kernel, and
// a Go Post wakes a C sem_wait, for every way of making and sharing the
// semaphore. Afterwards the value is 0 and no waiter is registered.
func TestCrossWake(t *testing.T) {
	requireC(t)
	for _, setup := range setups {
		t.Run(setup.name, func(t *testing.T) {
			t.Run("C-posts-Go-waits", func(t *testing.T) {
				r := setup.make(t)
				done := make(chan error, 1)
				go func() { done <- r.sem.Wait() }()
				waitAsleep(t, 0, r.addr, 1)
				r.peer.do(t, "post")
				wantDone(t, done)
				checkIdle(t, r)
			})
			t.Run("Go-posts-C-waits", func(t *testing.T) {
				r := setup.make(t)
				r.peer.send(t, "wait")
				waitAsleep(t, r.peer.pid(), r.peerAddr, 1)
				if err := r.sem.Post(); err != nil {
					t.Fatal(err)
				}
				if got := r.peer.answer(t); got != "ok" {
					t.Fatalf("C sem_wait: %s", got)
				}
				checkIdle(t, r)
			})
		})
	}
}

func wantDone(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the Go waiter was not woken")
	}
}

// checkIdle: value 0 on both sides and nwaiters back to 0.
func checkIdle(t *testing.T, r rig) {
	t.Helper()
	wantValue(t, r.sem, 0)
	if got := r.peer.do(t, "value"); got != "0" {
		t.Errorf("C sem_getvalue = %s, want 0", got)
	}
	if n := posixsem.Waiters(r.sem); n != 0 {
		t.Errorf("nwaiters = %d after the wake-up", n)
	}
}

// TestCrossManyWaiters: two C processes and two goroutines asleep on one
// semaphore at once; two posts from Go and two from a third C process wake
// them all.
func TestCrossManyWaiters(t *testing.T) {
	requireC(t)
	name := semName(t)
	s, err := posixsem.Open(name, os.O_CREATE|os.O_EXCL, 0o600, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var waiters []*peer
	for range 2 {
		p := startPeer(t)
		addr := p.do(t, "open %s", name)
		p.send(t, "wait")
		waitAsleep(t, p.pid(), addr, 1)
		waiters = append(waiters, p)
	}
	done := make(chan error, 2)
	for range 2 {
		go func() { done <- s.Wait() }()
	}
	waitAsleep(t, 0, hexAddr(posixsem.FutexAddr(s)), 2)
	if n := posixsem.Waiters(s); n != 4 {
		t.Errorf("nwaiters = %d with four waiters asleep", n)
	}
	poster := startPeer(t)
	poster.do(t, "open %s", name)
	for range 2 {
		if err := s.Post(); err != nil {
			t.Fatal(err)
		}
		poster.do(t, "post")
	}
	for range 2 {
		wantDone(t, done)
	}
	for _, p := range waiters {
		if got := p.answer(t); got != "ok" {
			t.Errorf("C sem_wait: %s", got)
		}
	}
	wantValue(t, s, 0)
	if n := posixsem.Waiters(s); n != 0 {
		t.Errorf("nwaiters = %d after every waiter returned", n)
	}
}

// TestCrossContention: K C processes, K Go processes and K goroutines of
// this process each take the semaphore N times around a slow non-atomic
// increment of a counter in shared memory; the total is exact. The same
// run without the semaphore loses increments, which shows that the test
// can fail.
func TestCrossContention(t *testing.T) {
	requireC(t)
	const n = 5000
	variants := []struct {
		name string
		// setup returns the semaphore, the shared memory with the counter,
		// the worker arguments without N, and the files the workers inherit.
		setup func(t *testing.T) (*posixsem.Semaphore, []byte, []string, []*os.File)
	}{
		{"named", func(t *testing.T) (*posixsem.Semaphore, []byte, []string, []*os.File) {
			mem := sysvSegment(t)
			name := semName(t)
			s, err := posixsem.Open(name, os.O_CREATE|os.O_EXCL, 0o600, 1)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s, mem, []string{"named", name, fmt.Sprint(segKey)}, nil
		}},
		{"sysv", func(t *testing.T) (*posixsem.Semaphore, []byte, []string, []*os.File) {
			mem := sysvSegment(t)
			s, err := posixsem.Init(mem, 1)
			if err != nil {
				t.Fatal(err)
			}
			return s, mem, []string{"shm", fmt.Sprint(segKey)}, nil
		}},
		{"memfd", func(t *testing.T) (*posixsem.Semaphore, []byte, []string, []*os.File) {
			f, mem := memfd(t)
			s, err := posixsem.Init(mem, 1)
			if err != nil {
				t.Fatal(err)
			}
			return s, mem, []string{"fd", "3"}, []*os.File{f}
		}},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			s, mem, args, files := v.setup(t)
			total := contend(t, s, counterAt(mem), append(args, fmt.Sprint(n)), files, n)
			if want := int64(3 * contenders * n); total != want {
				t.Errorf("counter = %d, want %d: %d increments lost", total, want, want-total)
			}
			wantValue(t, s, 1)
			if w := posixsem.Waiters(s); w != 0 {
				t.Errorf("nwaiters = %d at the end", w)
			}
		})
	}
	t.Run("without-semaphore", func(t *testing.T) {
		// Increments are lost only where workers overlap in time, which a
		// busy machine may prevent in one short run: up to three longer
		// runs, of which one must lose some.
		const n = 4 * n
		want := int64(3 * contenders * n)
		for range 3 {
			mem := sysvSegment(t)
			s, err := posixsem.Init(mem, 1)
			if err != nil {
				t.Fatal(err)
			}
			total := contend(t, s, counterAt(mem), []string{"shm", fmt.Sprint(segKey), fmt.Sprint(-n)}, nil, -n)
			if total < want {
				t.Logf("without the semaphore: %d of %d increments lost", want-total, want)
				return
			}
		}
		t.Errorf("no increment lost without the semaphore in three runs of %d: the test could not fail", want)
	})
}

// contenders is K: the number of C processes, of Go processes and of
// goroutines.
const contenders = 3

// contend runs the contention workers (C, Go processes, goroutines of this
// process on s) with the worker arguments args, releases them at once, and
// returns the counter when all are done.
func contend(t *testing.T, s *posixsem.Semaphore, counter *int64, args []string, files []*os.File, n int) int64 {
	t.Helper()
	var workers []*worker
	for i := range 2 * contenders {
		var cmd *exec.Cmd
		if i < contenders {
			cmd = exec.Command(cProgram(t, "semcount"), args...)
		} else {
			cmd = exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), "POSIXSEM_HELPER=count", "POSIXSEM_HELPER_ARGS="+strings.Join(args, " "))
		}
		cmd.ExtraFiles = files
		workers = append(workers, startWorker(t, cmd))
	}
	for _, w := range workers {
		w.expect(t, "ready")
	}
	errs := make(chan error, contenders)
	for _, w := range workers {
		w.send(t, "go")
	}
	for range contenders {
		go func() { errs <- increment(s, counter, n) }()
	}
	for range contenders {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	for _, w := range workers {
		w.expect(t, "done")
		if res := w.proc.Wait(t, stepTimeout); res.Status != 0 {
			t.Errorf("%s: exit status %d\n%s", w.proc.Cmd.Path, res.Status, res.Stderr)
		}
	}
	return *counter
}

// worker is a contention process: "ready", then the start line, "done".
// It is killed and reaped when the test ends, if it has not exited.
type worker struct {
	proc *shmtest.Process
}

func startWorker(t *testing.T, cmd *exec.Cmd) *worker {
	t.Helper()
	return &worker{shmtest.Start(t, cmd)}
}

func (w *worker) send(t *testing.T, line string) {
	t.Helper()
	w.proc.Send(t, line)
}

// expect fails the test unless the worker's next line is want.
func (w *worker) expect(t *testing.T, want string) {
	t.Helper()
	if line := w.proc.WaitLine(t, "", stepTimeout); line != want {
		t.Fatalf("%s: read %q; want %q", w.proc.Cmd.Path, line, want)
	}
}

// TestCrossTimeouts: a C sem_timedwait times out while Go holds the
// semaphore and succeeds once Go posts; a Go WaitContext times out while C
// holds it and succeeds once C posts.
func TestCrossTimeouts(t *testing.T) {
	requireC(t)
	t.Run("C-times-out", func(t *testing.T) {
		name := semName(t)
		s, err := posixsem.Open(name, os.O_CREATE|os.O_EXCL, 0o600, 1)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		p := startPeer(t)
		addr := p.do(t, "open %s", name)
		if err := s.Wait(); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		p.send(t, "timedwait 200")
		if got := p.answer(t); got != fmt.Sprintf("err %d", int(unix.ETIMEDOUT)) {
			t.Fatalf("C sem_timedwait while Go holds: %s, want ETIMEDOUT", got)
		}
		if elapsed := time.Since(start); elapsed < 190*time.Millisecond {
			t.Errorf("C sem_timedwait gave up after %v, before its 200ms", elapsed)
		}
		if n := posixsem.Waiters(s); n != 0 {
			t.Errorf("nwaiters = %d after the C timeout", n)
		}
		p.send(t, "timedwait 20000")
		waitAsleep(t, p.pid(), addr, 1)
		if err := s.Post(); err != nil {
			t.Fatal(err)
		}
		if got := p.answer(t); got != "ok" {
			t.Fatalf("C sem_timedwait after the Go post: %s", got)
		}
		wantValue(t, s, 0)
	})
	t.Run("Go-times-out", func(t *testing.T) {
		name := semName(t)
		s, err := posixsem.Open(name, os.O_CREATE|os.O_EXCL, 0o600, 1)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		p := startPeer(t)
		p.do(t, "open %s", name)
		p.do(t, "wait")
		start := time.Now() // before the deadline is set: a preemption in between must not shorten the wait measured
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		defer cancel()
		if err := s.WaitContext(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Go WaitContext while C holds: %v, want DeadlineExceeded", err)
		}
		if elapsed := time.Since(start); elapsed < 145*time.Millisecond || elapsed > 5*time.Second {
			t.Errorf("WaitContext gave up after %v; the deadline was 150ms", elapsed)
		}
		ctx, cancel = context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- s.WaitContext(ctx) }()
		waitAsleep(t, 0, hexAddr(posixsem.FutexAddr(s)), 1)
		p.do(t, "post")
		wantDone(t, done)
		if n := posixsem.Waiters(s); n != 0 {
			t.Errorf("nwaiters = %d at the end", n)
		}
	})
}

// TestForeignFiles: files under a semaphore's name that glibc did not make
// as a semaphore are refused with a clear error, where glibc's sem_open
// maps them and the first sem_post crashes the process (shown with the C
// peer on a zero-length file).
func TestForeignFiles(t *testing.T) {
	garbage := []byte(strings.Repeat("A", posixsem.Size))
	private0 := make([]byte, posixsem.Size) // private FUTEX_PRIVATE, as if never initialised
	// pad: struct new_sem's pad field, which sem_open writes as 0 and
	// nothing changes (offset 12 in the 64-bit layout, 8 in the 32-bit one).
	pad := append([]byte(nil), wantFile(3)...)
	pad[map[int]int{32: 12, 16: 8}[posixsem.Size]] = 1
	type foreign struct {
		name  string
		make  func(path string) error
		errno syscall.Errno // 0: ErrNotSemaphore
	}
	cases := []foreign{
		{"empty", func(p string) error { return os.WriteFile(p, nil, 0o600) }, 0},
		{"short", func(p string) error { return os.WriteFile(p, wantFile(1)[:posixsem.Size/2], 0o600) }, 0},
		{"long", func(p string) error { return os.WriteFile(p, make([]byte, 4096), 0o600) }, 0},
		{"garbage", func(p string) error { return os.WriteFile(p, garbage, 0o600) }, 0},
		{"zeroes", func(p string) error { return os.WriteFile(p, private0, 0o600) }, 0},
		{"pad", func(p string) error { return os.WriteFile(p, pad, 0o600) }, 0},
		{"fifo", func(p string) error { return unix.Mkfifo(p, 0o600) }, 0},
		{"directory", func(p string) error { return os.Mkdir(p, 0o700) }, unix.EISDIR},
		{"symlink", func(p string) error { return os.Symlink("/dev/null", p) }, unix.ELOOP},
	}
	if posixsem.Size == 32 {
		// The 64-bit sem_t has 16 bytes after struct new_sem that sem_open
		// writes as 0. The 32-bit struct new_sem fills its 16-byte sem_t:
		// the last bytes are nwaiters, which waiters change, so there is no
		// tail to check there.
		tail := append([]byte(nil), wantFile(3)...)
		tail[len(tail)-1] = 1
		cases = append(cases, foreign{"tail", func(p string) error { return os.WriteFile(p, tail, 0o600) }, 0})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			name := semName(t)
			path, _ := posixsem.Path(name)
			if err := c.make(path); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Remove(path) })
			for _, flag := range []int{0, os.O_CREATE} {
				s, err := posixsem.Open(name, flag, 0o600, 0)
				if err == nil {
					s.Close()
					t.Fatalf("Open(%#x) of a %s file succeeded", flag, c.name)
				}
				if c.errno != 0 {
					wantErrno(t, "Open", err, c.errno)
					continue
				}
				if !errors.Is(err, posixsem.ErrNotSemaphore) || !strings.Contains(err.Error(), path) {
					t.Fatalf("Open(%#x) = %v; want ErrNotSemaphore naming %s", flag, err, path)
				}
				t.Logf("Open(%#x): %v", flag, err)
			}
		})
	}
	t.Run("glibc-crashes-on-empty", func(t *testing.T) {
		requireC(t)
		name := semName(t)
		path, _ := posixsem.Path(name)
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		p := startPeer(t)
		p.do(t, "open %s", name) // glibc maps the empty file
		answered := p.proc.Stdout()
		p.send(t, "post")
		res := p.proc.Wait(t, stepTimeout)
		if more := strings.TrimPrefix(res.Stdout, answered); more != "" {
			t.Fatalf("C sem_post on an empty file answered %q", more)
		}
		if res.Status != 128+int(syscall.SIGBUS) {
			t.Fatalf("C peer: exit status %d, want killed by SIGBUS (%d)\n%s", res.Status, 128+int(syscall.SIGBUS), res.Stderr)
		}
	})
}

// wantFile is the sem.NAME file sem_open writes for value.
func wantFile(value uint32) []byte {
	b := make([]byte, posixsem.Size)
	if posixsem.Size == 32 {
		binary.NativeEndian.PutUint64(b, uint64(value))
		binary.NativeEndian.PutUint32(b[8:], 128)
	} else {
		binary.NativeEndian.PutUint32(b, value<<1)
		binary.NativeEndian.PutUint32(b[4:], 128)
	}
	return b
}
