package posixsem_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/shmmap/shmmap/internal/futexwait"
	"github.com/shmmap/shmmap/posixsem"
	"github.com/shmmap/shmmap/shmtest"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv("POSIXSEM_HELPER"); mode != "" {
		os.Exit(helper(mode, strings.Fields(os.Getenv("POSIXSEM_HELPER_ARGS"))))
	}
	code := m.Run()
	shmtest.RemoveBuilds()
	// Every test removes its names; nothing of ours may be left behind.
	left, _ := filepath.Glob(fmt.Sprintf("/dev/shm/sem.posixsem-%d-*", os.Getpid()))
	if len(left) > 0 {
		fmt.Fprintln(os.Stderr, "semaphores left behind:", left)
		code = 1
	}
	os.Exit(code)
}

// cProgram returns the C program built from testdata/NAME.c (once per test
// binary) for this test binary's ABI: a 386 test binary shares semaphores
// with 32-bit C (-m32) where the machine builds and runs it, and with
// 64-bit C otherwise (requireC then skips the tests that share one).
func cProgram(t *testing.T, name string) string {
	t.Helper()
	var cflags []string
	if runtime.GOARCH == "386" {
		if ok, _ := shmtest.CanRun32(); ok {
			cflags = []string{"-m32"}
		}
	}
	return shmtest.BuildC(t, filepath.Join("testdata", name+".c"), cflags...)
}

// cSemSize is the C programs' sizeof(sem_t), asked of sempeer by the first
// requireC; cSemSizeMu guards setting it.
var (
	cSemSize   int
	cSemSizeMu sync.Mutex
)

// requireC builds the C programs and skips a test that shares a semaphore
// with them when their sem_t is not this binary's (a 32-bit test binary
// with 64-bit C). cSemSize is set once it returns.
func requireC(t *testing.T) {
	t.Helper()
	if size := cSemSizeOnce(t); size != posixsem.Size {
		_, reason := shmtest.CanRun32()
		t.Skipf("the C programs' sem_t is %d bytes and this binary's %d: 32-bit and 64-bit processes cannot share a semaphore, and there is no 32-bit C peer: %s", size, posixsem.Size, reason)
	}
}

// cSemSizeOnce sets cSemSize, asking sempeer the first time, and returns
// it.
func cSemSizeOnce(t *testing.T) int {
	t.Helper()
	cSemSizeMu.Lock()
	defer cSemSizeMu.Unlock()
	if cSemSize == 0 {
		cSemSize = cSizeofSem(t)
	}
	return cSemSize
}

// cSizeofSem asks sempeer for sizeof(sem_t).
func cSizeofSem(t *testing.T) int {
	t.Helper()
	cmd := peerCommand(t)
	cmd.Stdin = strings.NewReader("size\n")
	res := shmtest.Run(t, cmd)
	var n int
	if _, err := fmt.Sscanf(res.Stdout, "ok %d", &n); err != nil || res.Status != 0 {
		t.Fatalf("asking sempeer for sizeof(sem_t): %v: %+v", err, res)
	}
	return n
}

// peerCommand is a command running testdata/sempeer.c.
func peerCommand(t *testing.T) *exec.Cmd { return exec.Command(cProgram(t, "sempeer")) }

var nameSeq atomic.Int64

// semName returns a name no other test uses (the process id, a sequence
// number and the test's name), and removes the semaphore at the end of the
// test.
func semName(t *testing.T) string {
	test := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, strings.TrimPrefix(t.Name(), "Test"))
	if len(test) > 60 {
		test = test[:60]
	}
	name := fmt.Sprintf("/posixsem-%d-%d-%s", os.Getpid(), nameSeq.Add(1), test)
	t.Cleanup(func() { posixsem.Unlink(name) })
	return name
}

// sharedMem returns size bytes of anonymous MAP_SHARED memory.
func sharedMem(t *testing.T, size int) []byte {
	t.Helper()
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(mem) })
	return mem
}

// errnoOf returns the errno err wraps, or 0.
func errnoOf(err error) syscall.Errno {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return 0
}

// waitAsleep returns once count threads of process pid (0: this process)
// sleep in futex(2) on addr, as /proc/PID/task/TID/syscall shows: the
// handshake that a waiter really blocked before the test posts. It polls
// with shmtest.WaitFor (there is nothing to be notified by) and fails after
// 20 seconds, saying how many it saw last.
func waitAsleep(t *testing.T, pid int, addr string, count int) {
	t.Helper()
	proc := "/proc/self"
	if pid != 0 {
		proc = "/proc/" + strconv.Itoa(pid)
	}
	prefix := fmt.Sprintf("%d %s ", unix.SYS_FUTEX, addr)
	n, done := 0, false
	defer func() {
		if !done { // WaitFor failed the test
			t.Logf("last seen: %d of %d threads of %s asleep on the futex at %s", n, count, proc, addr)
		}
	}()
	shmtest.WaitFor(t, fmt.Sprintf("%d threads of %s asleep on the futex at %s", count, proc, addr), 20*time.Second, func() bool {
		n = 0
		tasks, _ := filepath.Glob(proc + "/task/*/syscall")
		for _, f := range tasks {
			if b, err := os.ReadFile(f); err == nil && strings.HasPrefix(string(b), prefix) {
				n++
			}
		}
		if pid == 0 { // Go waiters whose wait moved to the multiplexer
			a, _ := strconv.ParseUint(addr, 0, 64)
			n += futexwait.Armed(uintptr(a))
		}
		return n >= count
	})
	done = true
}

// hexAddr formats an address as the kernel and C's %p do.
func hexAddr(addr uintptr) string { return fmt.Sprintf("%#x", addr) }

// helper is the Go counterpart of testdata/semcount.c, run as a separate
// process (the test binary itself, with POSIXSEM_HELPER=count).
func helper(mode string, args []string) int {
	if mode != "count" {
		fmt.Fprintln(os.Stderr, "unknown helper", mode)
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "count helper:", err)
		return 1
	}
	attach := func(key string) ([]byte, error) {
		k, err := strconv.ParseInt(key, 0, 64)
		if err != nil {
			return nil, err
		}
		id, err := unix.SysvShmGet(int(k), 0, 0)
		if err != nil {
			return nil, err
		}
		return unix.SysvShmAttach(id, 0, 0)
	}
	var (
		sem *posixsem.Semaphore
		mem []byte
		err error
		n   string
	)
	switch {
	case len(args) == 4 && args[0] == "named":
		if sem, err = posixsem.Open(args[1], 0, 0, 0); err != nil {
			return fail(err)
		}
		mem, err = attach(args[2])
		n = args[3]
	case len(args) == 3 && args[0] == "shm":
		if mem, err = attach(args[1]); err == nil {
			sem, err = posixsem.At(mem)
		}
		n = args[2]
	case len(args) == 3 && args[0] == "fd":
		fd, _ := strconv.Atoi(args[1])
		if mem, err = unix.Mmap(fd, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED); err == nil {
			sem, err = posixsem.At(mem)
		}
		n = args[2]
	default:
		return fail(fmt.Errorf("bad arguments %q", args))
	}
	if err != nil {
		return fail(err)
	}
	iterations, err := strconv.Atoi(n)
	if err != nil {
		return fail(err)
	}
	counter := counterAt(mem)
	fmt.Println("ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return fail(err)
	}
	if err := increment(sem, counter, iterations); err != nil {
		return fail(err)
	}
	fmt.Println("done")
	return 0
}

// addrOf is the address of mem, where a sem_t at its start has its futex
// word (on little-endian machines).
func addrOf(mem []byte) uintptr { return uintptr(unsafe.Pointer(&mem[0])) }

// rawWaiters reads nwaiters of the native sem_t at the start of mem.
func rawWaiters(mem []byte) uint32 {
	if posixsem.Size == 32 {
		return uint32(atomic.LoadUint64((*uint64)(unsafe.Pointer(&mem[0]))) >> 32)
	}
	return atomic.LoadUint32((*uint32)(unsafe.Pointer(&mem[12])))
}
