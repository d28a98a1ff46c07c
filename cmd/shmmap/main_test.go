package main

// The shmmap binary is tested from outside, as a user runs it: TestMain
// builds it, the C reference writer and reader (c-reference/) and the Go
// writer into a directory the unprivileged user can enter. Every test that
// touches System V segments first enters a fresh IPC namespace
// (testutil.EnterIPCNamespace), so key 0x1234 is its own and nothing it
// makes outlives it; every process it starts is forked from that thread and
// lives in the same namespace. Expected values come from the C programs,
// ipcs, hexdump, the kernel's IPC_STAT and the library, never from shmmap
// itself. Steps are ordered by the segment's nattch, never by sleeping.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/impls"
	"github.com/shmmap/shmmap/internal/testutil"
)

// shmKey is the article's key, the one the C writer and reader use.
const shmKey = 0x1234

// bin holds the programs TestMain built.
var bin string

// shmNamePrefix starts the name of every POSIX shared memory object the
// tests make, so TestMain can tell whether one was left behind.
var shmNamePrefix = fmt.Sprintf("shmmap-cmdtest-%d-", os.Getpid())

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := testutil.MkdirShared("shmmap-cmd-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin = dir
	ref := filepath.Join(testutil.ModuleRoot(), "c-reference")
	builds := []func() error{
		func() error { return testutil.BuildGo(filepath.Join(dir, "shmmap"), "./cmd/shmmap") },
		func() error { return testutil.BuildGo(filepath.Join(dir, "writer"), "./cmd/writer") },
		func() error { return testutil.BuildC(filepath.Join(dir, "c-writer"), filepath.Join(ref, "writer.c")) },
		func() error { return testutil.BuildC(filepath.Join(dir, "c-reader"), filepath.Join(ref, "reader.c")) },
	}
	for _, build := range builds {
		if err := build(); err != nil {
			fmt.Fprintln(os.Stderr, "building the programs under test:", err)
			return 1
		}
	}
	code := m.Run()
	if left, _ := filepath.Glob(filepath.Join("/dev/shm", shmNamePrefix+"*")); len(left) > 0 {
		fmt.Fprintln(os.Stderr, "the tests left POSIX shared memory objects behind:", left)
		return 1
	}
	return code
}

// runOpts says how to run a program.
type runOpts struct {
	stdin  []byte
	nobody bool // as the unprivileged user
}

// runShmmap runs bin/shmmap with args to completion.
func runShmmap(t *testing.T, o runOpts, args ...string) testutil.Result {
	t.Helper()
	return runProg(t, o, filepath.Join(bin, "shmmap"), args...)
}

// runProg runs a program to completion, killing it if it hangs.
func runProg(t *testing.T, o runOpts, path string, args ...string) testutil.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = "/"
	cmd.Stdin = bytes.NewReader(o.stdin)
	if o.nobody {
		cmd.SysProcAttr = testutil.NobodyCred()
	}
	res, err := testutil.Run(cmd)
	if err != nil {
		t.Fatalf("%s %s: %v", filepath.Base(path), strings.Join(args, " "), err)
	}
	return res
}

// mustShmmap runs bin/shmmap and fails the test unless it succeeds.
func mustShmmap(t *testing.T, args ...string) string {
	t.Helper()
	res := runShmmap(t, runOpts{}, args...)
	if res.Status != 0 || res.Stderr != "" {
		t.Fatalf("shmmap %s: status %d, stderr %q", strings.Join(args, " "), res.Status, res.Stderr)
	}
	return res.Stdout
}

// writerProg is a program that creates key 0x1234 and holds it attached.
type writerProg struct {
	name string // "C", "Go/purego", "Go/cshim"
	comm string // its /proc/PID/comm
	path string
	args []string
}

// writers returns the C writer and the Go writer over each implementation
// built into this test binary.
func writers() []writerProg {
	ws := []writerProg{{"C", "c-writer", filepath.Join(bin, "c-writer"), nil}}
	for _, impl := range impls.All() {
		ws = append(ws, writerProg{"Go/" + impl.Name, "writer", filepath.Join(bin, "writer"), []string{"-impl", impl.Name, "-hold", "10m"}})
	}
	return ws
}

// writerMessage is what the writers copy into the segment.
const writerMessage = "shared memory here!\n"

// runningWriter is a writer holding key 0x1234.
type runningWriter struct {
	pid    int
	cmd    *exec.Cmd
	exited chan struct{} // closed once the process has been reaped
}

// stop kills the writer and returns once it has been reaped; the kernel
// has detached its segment by then.
func (w *runningWriter) stop() {
	w.cmd.Process.Kill()
	<-w.exited
}

// startWriter starts w and returns once it has attached key 0x1234 (the
// handshake the C program allows: nattch becomes 1) and copied its message
// in (which it does just after attaching). The writer is killed and reaped
// when the test ends.
func startWriter(t *testing.T, w writerProg) *runningWriter {
	t.Helper()
	cmd := exec.Command(w.path, w.args...)
	cmd.Dir = "/"
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the %s writer: %v", w.name, err)
	}
	rw := &runningWriter{pid: cmd.Process.Pid, cmd: cmd, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(rw.exited) }()
	t.Cleanup(rw.stop)
	waitNattch(t, shmKey, 1, rw.exited)
	waitFor(t, rw.exited, "the writer's message in the segment", func() bool {
		return string(contents(t, shmKey)[:len(writerMessage)]) == writerMessage
	})
	return rw
}

// waitNattch polls IPC_STAT until the segment at key has want attachments,
// and fails at once if the process behind exited ends first.
func waitNattch(t *testing.T, key shmmap.Key, want int, exited <-chan struct{}) {
	t.Helper()
	waitFor(t, exited, fmt.Sprintf("segment %v with %d attachments", key, want), func() bool {
		seg, err := shmmap.OpenSegment(key)
		if err != nil {
			return false
		}
		info, err := seg.Stat()
		return err == nil && info.Nattch == want
	})
}

// waitFor polls cond every millisecond until it holds. It fails if the
// process behind exited ends first, or after 20 seconds.
func waitFor(t *testing.T, exited <-chan struct{}, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-exited:
			t.Fatalf("the process exited before %s", what)
		case <-deadline:
			t.Fatalf("waited 20s in vain for %s", what)
		case <-tick.C:
		}
	}
}

// contents returns the bytes of the segment at key, read through the
// library.
func contents(t *testing.T, key shmmap.Key) []byte {
	t.Helper()
	seg, err := shmmap.OpenSegment(key)
	if err != nil {
		t.Fatal(err)
	}
	a, err := seg.Attach(shmmap.AttachReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Detach()
	return bytes.Clone(a.Bytes())
}

// uniqueShmName returns a POSIX shared memory object name no other test
// run uses.
func uniqueShmName(what string) string {
	return fmt.Sprintf("%s%s-%d", shmNamePrefix, what, time.Now().UnixNano())
}
