// Package futexwaittest holds what the tests of the packages that wait
// through futexwait share: running tests again in a fresh process with a
// mechanism forced, starting a many-waiter test, shared memory for it, and
// counting the process's OS threads.
package futexwaittest

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/shmmap/shmmap/internal/futexwait"
	"golang.org/x/sys/unix"
)

// ChildEnv marks a test process started by RunChild.
const ChildEnv = "SHMMAP_FUTEXWAIT_TEST_CHILD"

// IsChild reports whether this test process was started by RunChild.
func IsChild() bool { return os.Getenv(ChildEnv) != "" }

// Forced lists the environments that force each mechanism: the thread per
// waiter (the fallback), and the multiplexers (io_uring, futex_waitv
// workers) with no direct waits, so that every sleep goes through them.
func Forced() [][]string {
	return [][]string{
		{futexwait.EnvMechanism + "=" + futexwait.Thread},
		{futexwait.EnvMechanism + "=" + futexwait.IOURing, futexwait.EnvDirect + "=0"},
		{futexwait.EnvMechanism + "=" + futexwait.Waitv, futexwait.EnvDirect + "=0"},
	}
}

// RunChild runs the tests matching pattern in a fresh process (this test
// binary, -short if this run is) with env added, fails t if they fail, and
// logs their verdicts and the lines that report counts ("blocked", "runs
// of").
func RunChild(t *testing.T, pattern string, env ...string) {
	t.Helper()
	args := []string{"-test.run=" + pattern, "-test.count=1", "-test.v"}
	if testing.Short() {
		args = append(args, "-test.short")
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), ChildEnv+"=1"), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", strings.Join(env, " "), args, err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "--- ") || strings.Contains(line, "runs of") || strings.Contains(line, "blocked") {
			t.Log(strings.TrimSpace(line))
		}
	}
}

// OSThreads returns the number of OS threads of this process.
func OSThreads(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// Many begins a test that blocks many goroutines and counts the OS
// threads. Outside a RunChild child it runs test (a -run pattern) in one,
// since earlier tests leave threads behind, and returns 0: the caller then
// returns. In the child it skips the test where futex waits are not
// multiplexed (each waiter would hold a thread) and returns ManyCount(slow).
func Many(t *testing.T, test string, slow bool) int {
	t.Helper()
	if !IsChild() {
		RunChild(t, test)
		return 0
	}
	if !futexwait.Multiplexed() {
		_, why := futexwait.Mechanism()
		t.Skipf("futex waits are not multiplexed here (%s): each blocked waiter holds a thread", why)
	}
	return ManyCount(slow)
}

// ManyCount is how many goroutines a many-waiter test blocks: 10,000, or
// 2,000 under -short or when slow is true (the race detector makes 10,000
// goroutines slow).
func ManyCount(slow bool) int {
	if testing.Short() || slow {
		return 2000
	}
	return 10000
}

// SharedMem maps n slots of stride bytes of a memfd, shared as another
// process would map them; it is unmapped when the test ends.
func SharedMem(t testing.TB, n, stride int) []byte {
	t.Helper()
	fd, err := unix.MemfdCreate("futexwaittest", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Ftruncate(fd, int64(n*stride)); err != nil {
		t.Fatal(err)
	}
	mem, err := unix.Mmap(fd, 0, n*stride, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(mem) })
	return mem
}
