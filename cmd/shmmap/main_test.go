package main

// The shmmap binary is tested from outside, as a user runs it: the tests
// build it, the C reference writer and reader (c-reference/) and the Go
// writer with shmtest (once per test binary, in a directory the
// unprivileged user can enter). Every test that touches System V segments
// first enters a fresh IPC namespace (shmtest.Isolate), so key 0x1234 is
// its own and nothing it makes outlives it; every process it starts is
// forked from that thread and lives in the same namespace. Expected values
// come from the C programs, ipcs, hexdump, the kernel's IPC_STAT and the
// library, never from shmmap itself. Steps are ordered by the segment's
// nattch, never by sleeping.

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/impls"
	"github.com/shmmap/shmmap/shmtest"
)

// shmKey is the article's key, the one the C writer and reader use.
const shmKey = 0x1234

// waitTimeout bounds every wait for a writer's handshake.
const waitTimeout = 20 * time.Second

// shmNamePrefix starts the name of every POSIX shared memory object the
// tests make, so TestMain can tell whether one was left behind.
var shmNamePrefix = fmt.Sprintf("shmmap-cmdtest-%d-", os.Getpid())

func TestMain(m *testing.M) {
	code := m.Run()
	shmtest.RemoveBuilds()
	if left, _ := filepath.Glob(filepath.Join("/dev/shm", shmNamePrefix+"*")); len(left) > 0 {
		fmt.Fprintln(os.Stderr, "the tests left POSIX shared memory objects behind:", left)
		code = 1
	}
	os.Exit(code)
}

// The programs under test, built once per test binary by the first test
// that asks, into a directory the unprivileged user can enter.

// shmmapProg is the shmmap command itself.
func shmmapProg(t *testing.T) string {
	return shmtest.BuildGo(t, "github.com/shmmap/shmmap/cmd/shmmap")
}

// cWriterProg and cReaderProg are the article's C programs.
func cWriterProg(t *testing.T) string { return shmtest.BuildC(t, "../../c-reference/writer.c") }
func cReaderProg(t *testing.T) string { return shmtest.BuildC(t, "../../c-reference/reader.c") }

// goWriterProg is the Go port of the writer.
func goWriterProg(t *testing.T) string {
	return shmtest.BuildGo(t, "github.com/shmmap/shmmap/cmd/writer")
}

// runOpts says how to run a program.
type runOpts struct {
	stdin  []byte
	nobody bool // as the unprivileged user
}

// runShmmap runs shmmap with args to completion.
func runShmmap(t *testing.T, o runOpts, args ...string) shmtest.Result {
	t.Helper()
	return runProg(t, o, shmmapProg(t), args...)
}

// runProg runs a program to completion in /, killing it and failing the
// test if it hangs.
func runProg(t *testing.T, o runOpts, path string, args ...string) shmtest.Result {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.Dir = "/"
	cmd.Stdin = bytes.NewReader(o.stdin)
	if o.nobody {
		shmtest.Unprivileged(cmd)
	}
	return shmtest.Run(t, cmd)
}

// mustShmmap runs shmmap and fails the test unless it succeeds.
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

// cWriter returns the C writer.
func cWriter(t *testing.T) writerProg {
	path := cWriterProg(t)
	return writerProg{"C", progComm(path), path, nil}
}

// writers returns the C writer and the Go writer over each implementation
// built into this test binary.
func writers(t *testing.T) []writerProg {
	ws := []writerProg{cWriter(t)}
	path := goWriterProg(t)
	for _, impl := range impls.All() {
		ws = append(ws, writerProg{"Go/" + impl.Name, progComm(path), path, []string{"-impl", impl.Name, "-hold", "10m"}})
	}
	return ws
}

// progComm is the /proc/PID/comm of a process running the program at path:
// the file name, cut to 15 bytes.
func progComm(path string) string {
	name := filepath.Base(path)
	return name[:min(len(name), 15)]
}

// writerMessage is what the writers copy into the segment.
const writerMessage = "shared memory here!\n"

// runningWriter is a writer holding key 0x1234.
type runningWriter struct {
	pid  int
	proc *shmtest.Process
}

// stop kills the writer and returns once it has been reaped; the kernel
// has detached its segment by then.
func (w *runningWriter) stop() { w.proc.Kill() }

// startWriter starts w and returns once it has attached key 0x1234 (the
// handshake the C program allows: nattch becomes 1) and copied its message
// in (which it does just after attaching). The writer is killed and reaped
// when the test ends.
func startWriter(t *testing.T, w writerProg) *runningWriter {
	t.Helper()
	cmd := exec.Command(w.path, w.args...)
	cmd.Dir = "/"
	p := shmtest.Start(t, cmd)
	shmtest.WaitAttached(t, shmKey, 1, waitTimeout, p)
	shmtest.WaitFor(t, "the writer's message in the segment", waitTimeout, func() bool {
		return string(contents(t, shmKey)[:len(writerMessage)]) == writerMessage
	}, p)
	return &runningWriter{pid: p.Pid(), proc: p}
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
