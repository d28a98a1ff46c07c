package pthread_test

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/shmmap/shmmap/internal/futexwait"
	"github.com/shmmap/shmmap/pthread"
	"github.com/shmmap/shmmap/shmtest"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	if os.Getenv("PTHREAD_HELPER") == "peer" {
		os.Exit(goPeer())
	}
	code := m.Run()
	shmtest.RemoveBuilds()
	os.Exit(code)
}

// stepTimeout bounds every wait for a peer's answer.
const stepTimeout = 20 * time.Second

// counterOff is where the peers' counter is, after the mutex.
const counterOff = 64

// cPeerPath builds testdata/mutexpeer.c (once per test binary) for this
// binary's ABI: with -m32 in a 386 test binary where 32-bit C builds and
// runs here.
func cPeerPath(t *testing.T) string {
	t.Helper()
	var cflags []string
	if runtime.GOARCH == "386" {
		if ok, _ := shmtest.CanRun32(); ok {
			cflags = []string{"-m32"}
		}
	}
	return shmtest.BuildC(t, filepath.Join("testdata", "mutexpeer.c"), cflags...)
}

var (
	cSizeMu sync.Mutex
	cSize   int
)

// requireC skips a test that shares a mutex with C when the C peer's
// pthread_mutex_t is not this binary's (a 386 test binary where 32-bit C
// cannot be built or run).
func requireC(t *testing.T) {
	t.Helper()
	cSizeMu.Lock()
	defer cSizeMu.Unlock()
	if cSize == 0 {
		cmd := exec.Command(cPeerPath(t))
		cmd.Stdin = strings.NewReader("size\n")
		res := shmtest.Run(t, cmd)
		if _, err := fmt.Sscanf(res.Stdout, "ok %d", &cSize); err != nil || res.Status != 0 {
			t.Fatalf("asking mutexpeer for sizeof(pthread_mutex_t): %v: %+v", err, res)
		}
	}
	if cSize != pthread.MutexSize {
		_, reason := shmtest.CanRun32()
		t.Skipf("the C peer's pthread_mutex_t is %d bytes and this binary's %d: 32-bit and 64-bit processes cannot share a mutex, and there is no 32-bit C peer here: %s", cSize, pthread.MutexSize, reason)
	}
}

// peer drives a C peer (testdata/mutexpeer.c) or a Go peer (this test
// binary with PTHREAD_HELPER=peer, goPeer): one command line in, one
// answer out.
type peer struct {
	lang string // "C" or "Go"
	proc *shmtest.Process
	addr string // the mutex's address in the peer
	read int    // answers taken
}

// startPeer starts a peer of lang ("C", "Go", or "Go-Thread": a Go peer
// that locks with a pthread.Thread) that maps the memfd f
// (its descriptor 3) and returns it. It is killed and reaped when the test
// ends.
func startPeer(t *testing.T, lang string, f *os.File) *peer {
	t.Helper()
	var cmd *exec.Cmd
	switch lang {
	case "C":
		requireC(t)
		cmd = exec.Command(cPeerPath(t))
	case "Go", "Go-Thread":
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		cmd = exec.Command(exe)
		// The test sees a peer asleep in /proc/PID/task/TID/syscall
		// (waitAsleep), where a wait multiplexed by internal/futexwait
		// does not show: the Go peer waits in its thread. The waiters
		// in the test process itself use the multiplexer.
		cmd.Env = append(os.Environ(), "PTHREAD_HELPER=peer", futexwait.EnvMechanism+"="+futexwait.Thread)
	default:
		t.Fatalf("no %q peer", lang)
	}
	cmd.ExtraFiles = []*os.File{f}
	p := &peer{lang: lang, proc: shmtest.Start(t, cmd)}
	p.addr = p.do(t, "fd 3 4096 0")
	if lang == "Go-Thread" {
		p.do(t, "self")
	}
	return p
}

func (p *peer) String() string { return fmt.Sprintf("%s peer %d", p.lang, p.proc.Pid()) }

// send sends a command without waiting for the answer.
func (p *peer) send(t *testing.T, format string, args ...any) {
	t.Helper()
	p.proc.Send(t, fmt.Sprintf(format, args...))
}

// answer reads the next answer.
func (p *peer) answer(t *testing.T) string {
	t.Helper()
	p.read++
	return p.proc.WaitLine(t, "", stepTimeout)
}

// answered reports whether the peer printed an answer not yet read.
func (p *peer) answered() bool {
	return strings.Count(p.proc.Stdout(), "\n") > p.read
}

// do sends a command and returns what follows "ok" in the answer, failing
// on anything else.
func (p *peer) do(t *testing.T, format string, args ...any) string {
	t.Helper()
	p.send(t, format, args...)
	line := p.answer(t)
	if line != "ok" && !strings.HasPrefix(line, "ok ") {
		t.Fatalf("%v: %q: %s", p, fmt.Sprintf(format, args...), line)
	}
	return strings.TrimPrefix(strings.TrimPrefix(line, "ok"), " ")
}

// expect sends a command and fails unless the answer is want.
func (p *peer) expect(t *testing.T, want string, format string, args ...any) {
	t.Helper()
	p.send(t, format, args...)
	if got := p.answer(t); got != want {
		t.Fatalf("%v: %q answered %q, want %q", p, fmt.Sprintf(format, args...), got, want)
	}
}

func (p *peer) tid(t *testing.T) int {
	t.Helper()
	n, err := strconv.Atoi(p.do(t, "tid"))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (p *peer) dump(t *testing.T) []byte {
	t.Helper()
	b, err := hex.DecodeString(p.do(t, "dump"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// memfd returns a 4096-byte memfd, mapped here, for peers to inherit.
func memfd(t *testing.T) (*os.File, []byte) {
	t.Helper()
	fd, err := unix.MemfdCreate("pthread-test", unix.MFD_CLOEXEC)
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

// waitAsleep returns once a thread of the peer sleeps in futex(2) on its
// mutex, as /proc/PID/task/TID/syscall shows: the handshake that a waiter
// really blocked.
func waitAsleep(t *testing.T, p *peer) {
	t.Helper()
	prefix := fmt.Sprintf("%d %s ", unix.SYS_FUTEX, p.addr)
	proc := "/proc/" + strconv.Itoa(p.proc.Pid())
	shmtest.WaitFor(t, fmt.Sprintf("%v asleep on the futex at %s", p, p.addr), stepTimeout, func() bool {
		tasks, _ := filepath.Glob(proc + "/task/*/syscall")
		for _, f := range tasks {
			if b, err := os.ReadFile(f); err == nil && strings.HasPrefix(string(b), prefix) {
				return true
			}
		}
		return false
	}, p.proc)
}

// errAnswer is the peer protocol's answer for err.
func errAnswer(err error) string {
	if err == nil {
		return "ok"
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		return fmt.Sprintf("err %d", int(e))
	}
	fmt.Fprintln(os.Stderr, "go peer:", err)
	return fmt.Sprintf("err %d", int(unix.EIO))
}

// goPeer is the Go counterpart of testdata/mutexpeer.c, speaking the same
// protocol on stdin and stdout. Its main goroutine stays on one thread, as
// the C peer's main thread does, so "tid" is the owner's thread id. After
// the command "self" (Go only), it locks, trylocks and unlocks with
// LockOn, TryLockOn and UnlockOn and a pthread.Thread (a peer of language
// "Go-Thread" in the tests); before, with Lock, TryLock and Unlock (which
// LockOn and the others are with a nil Thread).
func goPeer() int {
	runtime.LockOSThread()
	var (
		mem []byte
		m   *pthread.Mutex
		th  *pthread.Thread // after "self": LockOn, TryLockOn, UnlockOn
	)
	mutex := func() (*pthread.Mutex, error) {
		if m == nil {
			var err error
			m, err = pthread.MutexAt(mem)
			if err != nil {
				return nil, err
			}
		}
		return m, nil
	}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f) == 0 {
			continue
		}
		arg := func(i int) int {
			if i >= len(f) {
				return -1
			}
			n, _ := strconv.Atoi(f[i])
			return n
		}
		var err error
		switch f[0] {
		case "size":
			fmt.Println("ok", pthread.MutexSize)
			continue
		case "fd":
			mem, err = unix.Mmap(arg(1), 0, arg(2), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
			if err == nil {
				mem = mem[arg(3):]
				fmt.Printf("ok %#x\n", uintptr(unsafe.Pointer(&mem[0])))
				continue
			}
		case "init":
			var attr pthread.MutexAttr
			attr.Type, attr.Protocol, err = parseType(f[1])
			attr.Robust = arg(2) == 1
			if err == nil && arg(3) != 1 {
				err = unix.EINVAL // a Go mutex is always process-shared
			}
			if err == nil {
				m, err = pthread.InitMutex(mem, attr)
			}
		case "self":
			th = pthread.Self()
		case "lock":
			if m, err = mutex(); err == nil {
				err = m.LockOn(th)
			}
		case "trylock":
			if m, err = mutex(); err == nil {
				var ok bool
				ok, err = m.TryLockOn(th)
				if !ok && err == nil {
					err = unix.EBUSY
				}
			}
		case "unlock":
			if m, err = mutex(); err == nil {
				err = m.UnlockOn(th)
			}
		case "consistent":
			if m, err = mutex(); err == nil {
				err = m.Consistent()
			}
		case "timedlock":
			if m, err = mutex(); err == nil {
				err = timedLock(m, time.Duration(arg(1))*time.Millisecond)
			}
		case "dump":
			fmt.Println("ok", hex.EncodeToString(mem[:pthread.MutexSize]))
			continue
		case "tid":
			fmt.Println("ok", unix.Gettid())
			continue
		case "lockaway":
			// Lock from a thread that is not the main thread, and
			// print its id.
			if m, err = mutex(); err == nil {
				var tid int
				if tid, err = lockAway(m); err == nil {
					fmt.Println("ok", tid)
					continue
				}
			}
		case "count":
			if m, err = mutex(); err == nil {
				counter := (*int32)(unsafe.Pointer(&mem[counterOff]))
				for range arg(1) {
					if err = m.LockOn(th); err != nil {
						break
					}
					*counter++
					if err = m.UnlockOn(th); err != nil {
						break
					}
				}
			}
		case "nolock":
			counter := (*int32)(unsafe.Pointer(&mem[counterOff]))
			for range arg(1) {
				*counter++
			}
		case "holdmany":
			// N goroutines each lock their own robust mutex, at
			// 256*(i+1), and keep it: a process dying with many robust
			// mutexes held by different goroutines.
			err = holdMany(mem, arg(1))
		case "quit":
			return 0
		default:
			err = unix.EINVAL
		}
		fmt.Println(errAnswer(err))
	}
	return 0
}

// parseType parses the peer protocol's mutex types.
func parseType(s string) (pthread.MutexType, pthread.Protocol, error) {
	switch s {
	case "default":
		return pthread.MutexDefault, pthread.ProtocolNone, nil
	case "normal":
		return pthread.MutexNormal, pthread.ProtocolNone, nil
	case "errorcheck":
		return pthread.MutexErrorCheck, pthread.ProtocolNone, nil
	case "recursive":
		return pthread.MutexRecursive, pthread.ProtocolNone, nil
	case "adaptive":
		return pthread.MutexAdaptive, pthread.ProtocolNone, nil
	case "inherit":
		return pthread.MutexDefault, pthread.ProtocolInherit, nil
	case "protect":
		return pthread.MutexDefault, pthread.ProtocolProtect, nil
	}
	return 0, 0, unix.EINVAL
}

// holdMany: see goPeer.
func holdMany(mem []byte, n int) error {
	errs := make(chan error, n)
	for i := range n {
		go func() {
			m, err := pthread.InitMutex(mem[256*(i+1):], pthread.MutexAttr{Robust: true})
			if err == nil {
				err = m.Lock()
			}
			errs <- err
			if err == nil {
				select {} // hold it, on this goroutine's thread, until killed
			}
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			return err
		}
	}
	return nil
}

// lockAway: see goPeer. Each try runs on a goroutine locked to its thread;
// one that finds itself on the main thread (whose id is the process's)
// stays there, blocked, so that the next try gets another thread.
func lockAway(m *pthread.Mutex) (int, error) {
	type result struct {
		tid int
		err error
	}
	for {
		res := make(chan result)
		go func() {
			runtime.LockOSThread()
			tid := unix.Gettid()
			if tid == unix.Getpid() {
				res <- result{tid: tid}
				select {}
			}
			res <- result{tid, m.Lock()}
		}()
		if r := <-res; r.tid != unix.Getpid() {
			return r.tid, r.err
		}
	}
}
