package pthread_test

// Helpers for the condition-variable tests: the C peer (testdata/condpeer.c,
// linked with glibc), a System V segment laid out as the peer expects, and
// a minimal glibc PTHREAD_MUTEX_NORMAL lock for driving glibc's own mutex
// from Go.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/shmmap/shmmap/internal/futexwait"
	"github.com/shmmap/shmmap/pthread"
	"github.com/shmmap/shmmap/shmtest"
	"golang.org/x/sys/unix"
)

// The segment condpeer.c attaches (its comment has the layout).
const (
	condSegKey    = 0xc0de // private to each test's IPC namespace
	condSegSize   = 1 << 16
	mutexOff      = 0
	condOff0      = 64 // cond N is at condOff0 + 64*N
	bufferOff     = 192
	condStepLimit = 20 * time.Second
)

// condPeerPath builds testdata/condpeer.c for this binary's ABI: -m32 in
// a 386 test binary where the machine builds and runs 32-bit C.
func condPeerPath(t *testing.T) string {
	t.Helper()
	var cflags []string
	if runtime.GOARCH == "386" {
		if ok, _ := shmtest.CanRun32(); ok {
			cflags = []string{"-m32"}
		}
	}
	return shmtest.BuildC(t, filepath.Join("testdata", "condpeer.c"), append(cflags, "-pthread", "-O2")...)
}

var (
	condCSizesOnce sync.Once
	condCSizes     [4]int // sizeof/alignof pthread_cond_t, pthread_mutex_t in the C peer
)

// requireCondPeer skips a test that shares a condition variable with C
// when the C peer's pthread_cond_t is not this binary's (a 32-bit test
// binary with 64-bit C only).
func requireCondPeer(t *testing.T) {
	t.Helper()
	condCSizesOnce.Do(func() {
		p := shmtest.Start(t, exec.Command(condPeerPath(t)))
		p.Send(t, "size")
		line := p.WaitLine(t, "", condStepLimit)
		var s [4]int
		if _, err := fmt.Sscanf(line, "ok %d %d %d %d", &s[0], &s[1], &s[2], &s[3]); err != nil {
			t.Fatalf("condpeer size: %q: %v", line, err)
		}
		condCSizes = s
		p.Send(t, "quit")
		p.Wait(t, condStepLimit)
	})
	if condCSizes[1] != pthread.CondAlign {
		_, reason := shmtest.CanRun32()
		t.Skipf("the C peer's pthread_cond_t is aligned to %d and this binary's to %d: 32-bit and 64-bit processes cannot share one, and there is no 32-bit C peer: %s", condCSizes[1], pthread.CondAlign, reason)
	}
}

// condPeer drives one condpeer process.
type condPeer struct {
	proc *shmtest.Process
	base uintptr // where the segment is attached in the peer
}

// startCondPeer starts a peer attached to the test's segment.
func startCondPeer(t *testing.T) *condPeer {
	t.Helper()
	p := &condPeer{proc: shmtest.Start(t, exec.Command(condPeerPath(t)))}
	addr := p.do(t, "shm %x", condSegKey)
	v, err := strconv.ParseUint(strings.TrimPrefix(addr, "0x"), 16, 64)
	if err != nil {
		t.Fatalf("peer address %q: %v", addr, err)
	}
	p.base = uintptr(v)
	return p
}

func (p *condPeer) pid() int { return p.proc.Pid() }

func (p *condPeer) send(t *testing.T, format string, args ...any) {
	t.Helper()
	p.proc.Send(t, fmt.Sprintf(format, args...))
}

func (p *condPeer) answer(t *testing.T) string {
	t.Helper()
	return p.proc.WaitLine(t, "", condStepLimit)
}

// do sends a command and returns what follows "ok", failing on anything
// else.
func (p *condPeer) do(t *testing.T, format string, args ...any) string {
	t.Helper()
	p.send(t, format, args...)
	line := p.answer(t)
	if line != "ok" && !strings.HasPrefix(line, "ok ") {
		t.Fatalf("condpeer %q: %s", fmt.Sprintf(format, args...), line)
	}
	return strings.TrimPrefix(strings.TrimPrefix(line, "ok"), " ")
}

// futexAddr is the address, in the peer, of __g_signals[g] of cond n.
func (p *condPeer) futexAddr(n, g int) string {
	return fmt.Sprintf("%#x", p.base+uintptr(condOff0+64*n+40+4*g))
}

// condSegment creates and attaches the segment in a fresh IPC namespace;
// the segment is removed at once (it lives while attached) and detached
// when the test ends.
func condSegment(t *testing.T) []byte {
	t.Helper()
	shmtest.Isolate(t)
	id, err := unix.SysvShmGet(condSegKey, condSegSize, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
	if err != nil {
		t.Fatal(err)
	}
	mem, err := unix.SysvShmAttach(id, 0, 0)
	if err != nil {
		unix.SysvShmCtl(id, unix.IPC_RMID, nil)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		unix.SysvShmDetach(mem)
		unix.SysvShmCtl(id, unix.IPC_RMID, nil)
	})
	return mem
}

func condMem(mem []byte, n int) []byte { return mem[condOff0+64*n : condOff0+64*n+pthread.CondSize] }

// glibcLock is glibc's lll_lock/lll_unlock on the __lock word of a
// process-shared PTHREAD_MUTEX_NORMAL pthread_mutex_t (0 free, 1 held, 2
// held with waiters): enough to share glibc's own mutex with C before and
// besides pthread.Mutex. It leaves __owner and __nusers alone, which
// glibc's normal mutex only reports.
type glibcLock struct{ w *uint32 }

func lockAt(mem []byte) glibcLock { return glibcLock{(*uint32)(unsafe.Pointer(&mem[mutexOff]))} }

func (l glibcLock) Lock() error {
	if atomic.CompareAndSwapUint32(l.w, 0, 1) {
		return nil
	}
	for atomic.SwapUint32(l.w, 2) != 0 {
		unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(l.w)), 0, 2, 0, 0, 0)
	}
	return nil
}

func (l glibcLock) Unlock() error {
	if atomic.SwapUint32(l.w, 0) > 1 {
		unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(l.w)), 1, 1, 0, 0, 0)
	}
	return nil
}

// asleepOn returns once count threads of process pid (0: this process)
// sleep in futex(2) on addr, as /proc/PID/task/TID/syscall shows: the
// handshake that waiters really blocked. In this process a Go waiter whose
// wait moved to internal/futexwait's multiplexer is not in futex(2): it
// counts when futexwait.Armed has its wait on addr.
func asleepOn(t *testing.T, pid int, addr string, count int) {
	t.Helper()
	proc := "/proc/self"
	if pid != 0 {
		proc = "/proc/" + strconv.Itoa(pid)
	}
	prefix := fmt.Sprintf("%d %s ", unix.SYS_FUTEX, addr)
	shmtest.WaitFor(t, fmt.Sprintf("%d threads of %s asleep on the futex at %s", count, proc, addr), condStepLimit, func() bool {
		n := 0
		tasks, _ := filepath.Glob(proc + "/task/*/syscall")
		for _, f := range tasks {
			if b, err := os.ReadFile(f); err == nil && strings.HasPrefix(string(b), prefix) {
				n++
			}
		}
		if pid == 0 {
			a, _ := strconv.ParseUint(addr, 0, 64)
			n += futexwait.Armed(uintptr(a))
		}
		return n >= count
	})
}

// stopped returns once process pid is stopped (state T in /proc/PID/stat).
func stopped(t *testing.T, pid int) {
	t.Helper()
	shmtest.WaitFor(t, fmt.Sprintf("process %d stopped", pid), condStepLimit, func() bool {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return false
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		return i > 0 && len(s) > i+2 && s[i+2] == 'T'
	})
}

func hexOf(b []byte) string { return fmt.Sprintf("%x", b) }

// splitmix is the peer's splitmix64, for the bounded buffer's checksum.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// bufferAt returns the bounded buffer's counters and slots (up to 64).
func bufferAt(mem []byte) (put, get *uint64, items []uint64) {
	put = (*uint64)(unsafe.Pointer(&mem[bufferOff]))
	get = (*uint64)(unsafe.Pointer(&mem[bufferOff+8]))
	items = unsafe.Slice((*uint64)(unsafe.Pointer(&mem[bufferOff+16])), 64)
	return put, get, items
}

// unsafeBytes is the memory of words as bytes (8-byte aligned).
func unsafeBytes(words []uint64) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), 8*len(words))
}
