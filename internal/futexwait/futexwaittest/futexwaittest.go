// Package futexwaittest holds what the tests of the packages that wait
// through futexwait share: running tests again in a fresh process with a
// mechanism forced, and counting the process's OS threads.
package futexwaittest

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/shmmap/shmmap/internal/futexwait"
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
